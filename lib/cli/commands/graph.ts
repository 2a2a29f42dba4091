import { EXIT, type CliIO } from '../exit';
import { buildSession, type SessionOptions } from '../session';

/** The formats `tributary graph` prints. */
export const GRAPH_FORMATS = ['dot', 'svg', 'tree', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/**
 * `tributary graph <script.lua>…`: builds the network from the scripts without starting it
 * and prints it as Graphviz DOT, SVG (drawn by Graphviz compiled to WebAssembly: no system
 * `dot` needed; the live page's drawing), the GoFlow-style text tree, or JSON.
 *
 * @example
 * ```ts
 * await graphCommand(['examples/scripted/network.lua'], { format: 'dot' }, process);
 * ```
 */
export async function graphCommand(scripts: string[], options: SessionOptions & { format?: GraphFormat }, io: CliIO): Promise<number> {
  const session = await buildSession(scripts, options);
  try {
    const { network } = session;
    const format = options.format ?? 'dot';
    const text =
      format === 'json'
        ? JSON.stringify(network.toJSON(), null, 2)
        : format === 'tree'
          ? network.toTree()
          : format === 'svg'
            ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- Graphviz (WebAssembly) loads only for a drawing
              await (require('../../observe/svg') as typeof import('../../observe/svg')).dotToSvg(network.toDot())
            : network.toDot();
    io.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return EXIT.OK;
  } finally {
    await session.close();
  }
}
