import { luaSignature } from '../../lua/module';
import { kindJsonSchema, type JsonSchema } from '../../nodes/json-schema';
import type { OptionSpec } from '../../nodes/options';
import type { NodeKind, Registry } from '../../nodes/registry';
import { EXIT, type CliIO } from '../exit';
import { loadHosts, type SessionOptions } from '../session';

/** One node kind as `tributary nodes --json` prints it. */
export interface NodeListing {
  name: string;
  role: string;
  summary: string;
  lua: string;
  positional: string[];
  options: Record<
    string,
    { type: string; description: string; required?: boolean; default?: unknown; enum?: readonly string[]; min?: number; max?: number }
  >;
  /** JSON Schema of the options object. */
  schema: JsonSchema;
  io?: 'files' | 'network';
  example: string;
  luaExample?: string;
}

/**
 * The node catalogue as data: every kind with its Lua signature and options.
 *
 * @example
 * ```ts
 * nodeListing(createRegistry()).find((k) => k.name === 'ticker')?.lua; // 'create_ticker(name, interval)'
 * ```
 */
export function nodeListing(registry: Registry): NodeListing[] {
  return registry.list().map((k: NodeKind<any>) => ({
    name: k.name,
    role: k.role,
    summary: k.summary,
    lua: luaSignature(k),
    positional: [...k.positional],
    options: Object.fromEntries(
      Object.entries(k.options).map(([name, o]: [string, OptionSpec]) => [
        name,
        {
          type: o.type,
          description: o.description,
          ...(o.required ? { required: true } : {}),
          ...(o.default !== undefined ? { default: o.default } : {}),
          ...(o.enum ? { enum: o.enum } : {}),
          ...(o.min !== undefined ? { min: o.min } : {}),
          ...(o.max !== undefined ? { max: o.max } : {}),
        },
      ]),
    ),
    schema: kindJsonSchema(k),
    ...(k.io ? { io: k.io } : {}),
    example: k.example,
    ...(k.luaExample ? { luaExample: k.luaExample } : {}),
  }));
}

function renderText(listing: NodeListing[]): string {
  const out: string[] = [];
  for (const k of listing) {
    out.push(`${k.name} (${k.role})  ${k.lua}`, `  ${k.summary}`);
    for (const [name, o] of Object.entries(k.options)) {
      const extra = o.required ? 'required' : o.default !== undefined ? `default ${JSON.stringify(o.default)}` : 'optional';
      out.push(`    ${name}: ${o.type}, ${extra} — ${o.description}`);
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * `tributary nodes [--json]`: lists the node catalogue (built-in kinds plus those `--require`
 * host modules add) with options and Lua signatures.
 *
 * @example
 * ```ts
 * await nodesCommand({ json: true }, process);
 * ```
 */
export async function nodesCommand(options: SessionOptions & { json?: boolean }, io: CliIO): Promise<number> {
  const host = await loadHosts(options);
  try {
    const listing = nodeListing(host.registry);
    io.stdout.write(options.json ? JSON.stringify(listing, null, 2) + '\n' : renderText(listing));
    return EXIT.OK;
  } finally {
    host.runtime.close();
  }
}
