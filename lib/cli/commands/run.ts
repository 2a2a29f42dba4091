import { parseTimer } from '../../duration';
import { errorMessage } from '../../errors';
import type { NetworkReport } from '../../network/network';
import { CliError, EXIT, type CliIO } from '../exit';
import { buildSession, type SessionOptions } from '../session';

/** Options of `tributary run`. */
export interface RunOptions extends SessionOptions {
  /** Stop after this long (Go syntax or ms); default: until a signal or the sources end. */
  for?: string;
  /** Print the stop report (counters per node) as JSON on stderr. */
  stats?: boolean;
}

/** Why `run` stopped the network. */
type Reason = 'signal' | 'duration' | 'finished';

/**
 * `tributary run <script.lua>…`: builds the network from the scripts, starts it, and on
 * SIGINT/SIGTERM, after `--for`, or when every source ended, drains it and resolves to the
 * exit code (0 after a clean drain, 1 if the network broke or the drain timed out). A second
 * signal during the drain exits at once with 130.
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand(['examples/scripted/network.lua'], { for: '3s' }, process);
 * ```
 */
export async function runCommand(scripts: string[], options: RunOptions, io: CliIO): Promise<number> {
  let duration: number | undefined;
  if (options.for !== undefined) {
    try {
      duration = parseTimer(options.for, '--for');
    } catch (e) {
      throw new CliError(EXIT.USAGE, errorMessage(e));
    }
  }
  const session = await buildSession(scripts, options);
  const { network } = session;
  try {
    // A script that builds nothing (the original's function-listing script) ran; that is all.
    if (Object.keys(network.edges()).length === 0) return EXIT.OK;
    try {
      await network.start();
    } catch (e) {
      throw new CliError(EXIT.USAGE, errorMessage(e));
    }
    const ops = await network.opsServer();
    if (ops) io.stderr.write(`tributary: operations port ${ops.url}/ (live page, /metrics, /healthz, /readyz)\n`);
    const reason = await waitForEnd(network.done(), duration, network.scheduler);
    const report = await network.stop();
    const failedNodes = failed(report);
    if (options.stats) io.stderr.write(JSON.stringify({ stoppedBy: reason, failedNodes, ...report }, null, 2) + '\n');
    return verdict(report, failedNodes, io);
  } finally {
    await session.close();
  }
}

/** Nodes that produced error events, with how many. */
function failed(report: NetworkReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, stats] of Object.entries(report.stats)) if (stats.errors > 0) out[name] = stats.errors;
  return out;
}

function verdict(report: NetworkReport, failedNodes: Record<string, number>, io: CliIO): number {
  if (report.failure) {
    io.stderr.write(`tributary: ${report.failure}\n`);
    return EXIT.RUNTIME;
  }
  if (report.timedOut) {
    io.stderr.write('tributary: the drain timed out; events in flight were cut off\n');
    return EXIT.RUNTIME;
  }
  const names = Object.entries(failedNodes);
  if (names.length > 0) {
    const total = names.reduce((n, [, c]) => n + c, 0);
    io.stderr.write(
      `tributary: ${total} error event${total === 1 ? '' : 's'} (${names.map(([n, c]) => `node '${n}': ${c}`).join(', ')})\n`,
    );
    return EXIT.EVENTS_FAILED;
  }
  return EXIT.OK;
}

function waitForEnd(
  finished: Promise<unknown>,
  duration: number | undefined,
  scheduler: { schedule(work: () => void, delay?: number): { unsubscribe(): void } },
): Promise<Reason> {
  return new Promise<Reason>((resolve) => {
    const timer = duration !== undefined ? scheduler.schedule(() => end('duration'), duration) : undefined;
    const onSignal = () => end('signal');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    void finished.then(() => end('finished'));
    let ended = false;
    function end(reason: Reason) {
      if (ended) return;
      ended = true;
      timer?.unsubscribe();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // A second signal while draining means "now".
      const force = () => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(reason);
    }
  });
}
