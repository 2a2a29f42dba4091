/**
 * Exit codes of the `tributary` command:
 * - 0: success (`run` drained cleanly after a signal, `--for` or its sources ending);
 * - 1: the network failed while running (it broke, or the drain timed out);
 * - 2: usage or script error (bad arguments, a script that fails, a host module that cannot
 *   be loaded, an invalid or unconnected graph, a window database that cannot be opened);
 * - 3: `run` drained cleanly, but nodes produced error events (work that failed: a row not
 *   stored, a payload a function threw on); the report names the nodes.
 */
export const EXIT = { OK: 0, RUNTIME: 1, USAGE: 2, EVENTS_FAILED: 3 } as const;

/** An error the CLI reports on stderr before exiting with its code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where the CLI writes: the process streams, or a test's collectors. `isTTY` (and `columns`)
 * decide the log format and whether `run` shows its progress line.
 */
export interface CliIO {
  stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  stderr: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
}
