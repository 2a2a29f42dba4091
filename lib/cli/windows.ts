import { errorMessage } from '../errors';
import type { Network } from '../network/network';
import { CliError, EXIT } from './exit';
import type { WindowConfig } from './hosts';

/** An open window store, as far as the CLI needs to know it. */
export interface ClosableStore {
  close(): Promise<void>;
}

interface WindowsModule {
  openWindowStore?: (options: Record<string, unknown>) => Promise<ClosableStore>;
  WINDOW_SERVICE?: string;
}

/**
 * Opens the window database and provides it to the network, when this build has the SQL
 * windows (`openWindowStore`). Without them, it does nothing unless a database was asked
 * for (`--db`), which is then an error.
 *
 * @example
 * ```ts
 * const store = await provideWindowStore(network, { entities: [Bet] }, 'sqlite:./tb.db');
 * // … after the drain
 * await store?.close();
 * ```
 */
export async function provideWindowStore(network: Network, config: WindowConfig, db: string | undefined): Promise<ClosableStore | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const windows = require('../windows/index') as WindowsModule;
  if (typeof windows.openWindowStore !== 'function' || typeof windows.WINDOW_SERVICE !== 'string') {
    if (db !== undefined) throw new CliError(EXIT.USAGE, `--db ${db}: this build of tributary has no SQL windows (openWindowStore is missing)`);
    return undefined;
  }
  let store: ClosableStore;
  try {
    store = await windows.openWindowStore({ ...config, url: db ?? 'sqlite::memory:' });
  } catch (e) {
    throw new CliError(EXIT.USAGE, `cannot open the window database: ${errorMessage(e)}`);
  }
  network.provide(windows.WINDOW_SERVICE, store);
  return store;
}
