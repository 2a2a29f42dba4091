import { EXIT, type CliIO } from '../exit';
import { buildSession, type SessionOptions } from '../session';

/**
 * `tributary check <script.lua>…`: runs the scripts against a network that is never
 * started and reports what would stop it from starting: script errors (with `file:line`)
 * and unconnected nodes, one per line on stderr. Exit 0 when the network is complete, 2
 * otherwise.
 *
 * @example
 * ```ts
 * const code = await checkCommand(['examples/scripted/network.lua'], {}, process);
 * ```
 */
export async function checkCommand(scripts: string[], options: SessionOptions, io: CliIO): Promise<number> {
  const session = await buildSession(scripts, options);
  try {
    const { network } = session;
    const nodes = Object.keys(network.edges());
    const problems = nodes.length === 0 ? ['network has no nodes'] : network.unconnected();
    if (problems.length > 0) {
      for (const p of problems) io.stderr.write(`tributary: ${p}\n`);
      return EXIT.USAGE;
    }
    const edges = Object.values(network.edges()).reduce((n, targets) => n + targets.length, 0);
    io.stdout.write(`ok: ${nodes.length} nodes, ${edges} edges, all connected\n`);
    return EXIT.OK;
  } finally {
    await session.close();
  }
}
