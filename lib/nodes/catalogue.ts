import { formatDuration } from '../duration';
import type { NodeKind, Registry } from './registry';

function formatDefault(kind: NodeKind<any>, key: string): string {
  const spec = kind.options[key];
  if (spec.default === undefined) return spec.required ? 'required' : '—';
  if (spec.type === 'duration' && typeof spec.default === 'number') return `\`${formatDuration(spec.default)}\``;
  return `\`${JSON.stringify(spec.default)}\``;
}

/**
 * The Lua call shape of a kind, from its positional arguments.
 *
 * @example
 * ```ts
 * luaSignature(registry.get('ticker')); // 'create_ticker(name, interval)'
 * ```
 */
export function luaSignature(kind: NodeKind<any>): string {
  return `create_${kind.name}(${['name', ...kind.positional].join(', ')})`;
}

/**
 * Renders the node catalogue page (docs/nodes.md) from a registry: one section per kind
 * with role, summary, Lua signature, options table and examples. A spec fails when the
 * committed page differs, so the catalogue cannot drift from the code.
 *
 * @example
 * ```ts
 * fs.writeFileSync('docs/nodes.md', renderCatalogue(createRegistry()));
 * ```
 */
export function renderCatalogue(registry: Registry): string {
  const kinds = registry.list();
  const lines: string[] = [
    '# Node catalogue',
    '',
    '<!-- Generated from the node registry by `npm run docs`; do not edit by hand. -->',
    '',
    'Every node kind below is available as a TypeScript factory (`nodes.<kind>(options)` or',
    '`registry.create(kind, options)`), as a Lua function `tb.create_<kind>(name, …)` taking the',
    'positional arguments shown or one options table, and in `tributary nodes`. Kinds marked',
    'with a plugin come with that plugin (see [plugins.md](plugins.md)); the rest are the core.',
    '',
    '| kind | role | summary |',
    '|---|---|---|',
    ...kinds.map((k) => `| [\`${k.name}\`](#${k.name}) | ${k.role} | ${k.summary.replace(/\|/g, '\\|')} |`),
    '',
  ];
  for (const k of kinds) {
    lines.push(`## ${k.name}`, '', `*${k.role}* — ${k.summary}`, '', `Lua: \`${luaSignature(k)}\``, '');
    const plugin = registry.pluginOf(k.name);
    if (plugin) lines.push(`Plugin: \`${plugin}\``, '');
    if (k.io === 'files') lines.push('Reads or writes local files: a sandboxed Lua script needs `allowFiles` (`--allow-files`).', '');
    if (k.io === 'network') lines.push('Talks to the network.', '');
    const keys = Object.keys(k.options);
    if (keys.length > 0) {
      lines.push('| option | type | default | description |', '|---|---|---|---|');
      for (const key of keys) {
        const o = k.options[key];
        const type = o.enum ? o.enum.map((v) => `\`"${v}"\``).join(' \\| ') : o.type;
        lines.push(`| \`${key}\` | ${type} | ${formatDefault(k, key)} | ${o.description.replace(/\|/g, '\\|')} |`);
      }
      lines.push('');
    } else {
      lines.push('No options.', '');
    }
    lines.push('```ts', k.example, '```', '');
    if (k.luaExample) lines.push('```lua', k.luaExample, '```', '');
  }
  return lines.join('\n');
}
