import { networkJsonSchema } from '../../declarative/schema';
import { EXIT, type CliIO } from '../exit';
import { loadHosts, type SessionOptions } from '../session';

/**
 * `tributary schema [--plugin …]`: prints the JSON Schema of declarative network files,
 * generated from the node declarations of the built-in kinds and those `--plugin` and
 * `--require` add, for editors to complete and check `.yaml`/`.json` networks.
 *
 * @example
 * ```ts
 * await schemaCommand({ plugins: ['./acme-plugin.js'] }, process);
 * ```
 */
export async function schemaCommand(options: SessionOptions, io: CliIO): Promise<number> {
  const host = await loadHosts(options);
  try {
    io.stdout.write(JSON.stringify(networkJsonSchema(host.registry), null, 2) + '\n');
    return EXIT.OK;
  } finally {
    host.runtime.close();
  }
}
