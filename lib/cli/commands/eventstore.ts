import { errorMessage } from '../../errors';
import { EXIT, type CliIO } from '../exit';

/** Options of {@link eventstoreServeCommand}. */
export interface EventstoreServeOptions {
  /** The store's database URL. */
  db: string;
  prefix?: string;
  host?: string;
  port: number;
  /** The bearer token (the CLI reads it from TRIBUTARY_EVENTSTORE_TOKEN). */
  token?: string;
  /** Stops the server when aborted (the CLI aborts on SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/**
 * `tributary eventstore serve --db <url> --port <port>`: serves an event store over HTTP
 * (poll as JSON, push as Server-Sent Events; see `serveEventStore`) until SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * await eventstoreServeCommand({ db: 'sqlite:./shop.db', port: 8085, signal: stop.signal }, process);
 * ```
 */
export async function eventstoreServeCommand(options: EventstoreServeOptions, io: CliIO): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the event store (and TypeORM) load only for this command
  const { EventStore, serveEventStore } = require('../../eventstore') as typeof import('../../eventstore');
  const store = await EventStore.open({ url: options.db, prefix: options.prefix });
  try {
    const server = await serveEventStore(store, {
      host: options.host,
      port: options.port,
      token: options.token,
      onError: (m) => io.stderr.write(`tributary eventstore: ${m}\n`),
    });
    io.stderr.write(`tributary eventstore: serving on ${server.url}${options.token ? ' (bearer token required)' : ''}\n`);
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted) return resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    return EXIT.OK;
  } catch (e) {
    io.stderr.write(`tributary eventstore: ${errorMessage(e)}\n`);
    return EXIT.RUNTIME;
  } finally {
    await store.close();
  }
}
