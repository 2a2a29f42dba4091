import { readFileSync, writeFileSync } from 'node:fs';
import type { NodeKind, Registry } from '../nodes/registry';
import type { OptionSpec } from '../nodes/options';
import { luaSignature } from './module';

/** Marks the start of the generated part of docs/lua.md. */
export const LUA_REFERENCE_BEGIN = '<!-- BEGIN GENERATED: lua create_* reference (renderLuaReference) -->';
/** Marks the end of the generated part of docs/lua.md. */
export const LUA_REFERENCE_END = '<!-- END GENERATED: lua create_* reference -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function optionType(spec: OptionSpec): string {
  if (spec.enum) return spec.enum.map((v) => `"${v}"`).join(' \\| ');
  return spec.type === 'array' ? 'list' : spec.type === 'object' ? 'table' : spec.type;
}

function optionDefault(spec: OptionSpec): string {
  if (spec.required) return 'required';
  if (spec.default === undefined) return '';
  return '`' + cell(JSON.stringify(spec.default)) + '`';
}

function renderKind(kind: NodeKind<any>): string {
  const lines = [`### \`${luaSignature(kind)}\``, '', `*${kind.role}* — ${kind.summary}`, ''];
  const options = Object.entries(kind.options);
  if (options.length > 0) {
    lines.push('| option | type | default | description |', '|---|---|---|---|');
    for (const [name, spec] of options) {
      const pos = kind.positional.indexOf(name);
      const label = pos >= 0 ? `\`${name}\` (argument ${pos + 2})` : `\`${name}\``;
      lines.push(`| ${label} | ${optionType(spec)} | ${optionDefault(spec)} | ${cell(spec.description)} |`);
    }
    lines.push('');
  }
  if (kind.luaExample) lines.push('```lua', kind.luaExample, '```', '');
  return lines.join('\n');
}

/**
 * The reference of every `create_*` function of the Lua module, as Markdown, generated from
 * a registry: signature (positional arguments), role, summary, options and the Lua example.
 * docs/lua.md holds its output between {@link LUA_REFERENCE_BEGIN} and
 * {@link LUA_REFERENCE_END}; a spec fails when that section is stale.
 *
 * @example
 * ```ts
 * const md = renderLuaReference(createRegistry());
 * md.includes('### `create_ticker(name, interval)`'); // true
 * ```
 */
export function renderLuaReference(registry: Registry): string {
  const kinds = registry.list();
  const index = kinds.map((k) => `- [\`${luaSignature(k)}\`](#${anchor(luaSignature(k))}) — ${k.summary}`);
  return [
    `${kinds.length} node kinds. Every \`create_<kind>(name, …)\` also accepts one options table instead of the`,
    'positional arguments (`tb.create_ticker("t", { interval = "500ms" })`), or the positional',
    'arguments followed by a table of the remaining options.',
    '',
    ...index,
    '',
    ...kinds.map(renderKind),
  ].join('\n');
}

/** GitHub's heading anchor for a heading text. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

/**
 * Replaces the text between the begin and end markers of a document (markers kept); the
 * document must contain both.
 *
 * @example
 * ```ts
 * const page = fs.readFileSync('docs/lua.md', 'utf8');
 * fs.writeFileSync('docs/lua.md', replaceGeneratedSection(page, renderLuaReference(createRegistry())));
 * ```
 */
export function replaceGeneratedSection(document: string, generated: string): string {
  const start = document.indexOf(LUA_REFERENCE_BEGIN);
  const end = document.indexOf(LUA_REFERENCE_END);
  if (start < 0 || end < start) {
    throw new Error(`the document lacks the markers ${LUA_REFERENCE_BEGIN} … ${LUA_REFERENCE_END}`);
  }
  return document.slice(0, start + LUA_REFERENCE_BEGIN.length) + '\n' + generated.trimEnd() + '\n' + document.slice(end);
}

/**
 * Rewrites the generated section of docs/lua.md from a registry (the CLI's: core kinds and
 * every built-in plugin). Returns true when the file changed.
 *
 * @example
 * ```ts
 * // npx ts-node --transpile-only -e "require('./lib/lua/docs').writeLuaDocs()"
 * writeLuaDocs('docs/lua.md', createRegistry({ plugins: builtinPlugins() }));
 * ```
 */
export function writeLuaDocs(file: string, registry: Registry): boolean {
  const before = readFileSync(file, 'utf8');
  const after = replaceGeneratedSection(before, renderLuaReference(registry));
  if (after !== before) writeFileSync(file, after);
  return after !== before;
}
