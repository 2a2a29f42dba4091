import { errorMessage } from '../errors';
import { openStateStore } from '../state/open';
import type { KeyValueStore } from '../state/types';
import { CliError, EXIT } from './exit';

/** The state flags `run` and `agent` share. */
export interface StateFlags {
  /** `--state-store`: the URL keyed state is checkpointed to. */
  stateStore?: string;
  /** `--checkpoint-interval`: only with `--state-store`. */
  checkpointInterval?: string;
}

/**
 * Checks the state flags before anything is opened: `--checkpoint-interval` needs
 * `--state-store` (a usage error otherwise).
 *
 * @example
 * ```ts
 * checkStateFlags({ checkpointInterval: '1s' }); // throws: --checkpoint-interval needs --state-store <url>
 * ```
 */
export function checkStateFlags(flags: StateFlags): void {
  if (flags.checkpointInterval !== undefined && flags.stateStore === undefined) {
    throw new CliError(EXIT.USAGE, '--checkpoint-interval needs --state-store <url>');
  }
}

/**
 * Opens the store `--state-store` names, or undefined without the flag; a URL that cannot be
 * opened is a usage error naming the flag (the password shown as `***`, as `openStateStore` does).
 *
 * @example
 * ```ts
 * const store = await openStateFlag(options.stateStore); // KeyValueStore | undefined
 * ```
 */
export async function openStateFlag(url: string | undefined): Promise<KeyValueStore | undefined> {
  if (url === undefined) return undefined;
  try {
    return await openStateStore(url);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `--state-store: ${errorMessage(e)}`);
  }
}
