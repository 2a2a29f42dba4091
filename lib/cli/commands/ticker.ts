import { errorMessage } from '../../errors';
import { parseDuration } from '../../duration';
import { CliError, EXIT, type CliIO } from '../exit';

/** Options of {@link tickerServeCommand}. */
export interface TickerServeOptions {
  port: number;
  host?: string;
  /** Time between ticks, Go syntax (`1s`, `500ms`). */
  interval: string;
  /** A directory or a state store URL. */
  store: string;
  /** Bearer token anchors must carry (the CLI takes it from TRIBUTARY_TICKER_TOKEN); never printed. */
  token?: string;
  /** Stops the ticker when aborted (the CLI aborts on SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/**
 * `tributary ticker serve --port 8081 --interval 1s --store ./ticker`: runs an entwine ticker
 * (docs/entwine.md) until SIGINT/SIGTERM; exit 0 after a clean stop, 1 when the store fails,
 * 2 for a bad `--interval`. With `token` (TRIBUTARY_TICKER_TOKEN) anchors need it as a bearer token.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * await tickerServeCommand({ port: 8081, interval: '1s', store: './ticker', signal: stop.signal }, process);
 * ```
 */
export async function tickerServeCommand(options: TickerServeOptions, io: CliIO): Promise<number> {
  let interval: number;
  try {
    interval = parseDuration(options.interval);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `--interval ${options.interval}: ${errorMessage(e)}`);
  }
  if (!(interval > 0)) throw new CliError(EXIT.USAGE, `--interval ${options.interval}: must be longer than 0`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- entwine loads only for this command
  const { openEntwineStore, Ticker, serveTicker } = require('../../entwine') as typeof import('../../entwine');
  let store;
  try {
    store = await openEntwineStore(options.store);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `--store: ${errorMessage(e)}`);
  }
  try {
    const ticker = await Ticker.open({ store, interval, onError: (m) => io.stderr.write(`tributary ticker: ${m}\n`) });
    ticker.start();
    const server = await serveTicker(ticker, { host: options.host, port: options.port, token: options.token });
    io.stderr.write(
      `tributary ticker: serving on ${server.url} (tick ${ticker.headTick.index}, every ${options.interval}, store ${store.url}; anchors ${
        options.token === undefined
          ? 'open to anyone who can reach the port: set TRIBUTARY_TICKER_TOKEN to ask for a bearer token'
          : 'need the bearer token'
      })\n`,
    );
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted) return resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await ticker.stop();
    await server.close();
    io.stderr.write(`tributary ticker: stopped at tick ${ticker.headTick.index}\n`);
    return EXIT.OK;
  } catch (e) {
    io.stderr.write(`tributary ticker: ${errorMessage(e)}\n`);
    return EXIT.RUNTIME;
  } finally {
    await store.close();
  }
}
