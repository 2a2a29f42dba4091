import { errorMessage } from '../errors';

/**
 * A one-line message for anything thrown, also for errors from another realm (a VM context,
 * a test sandbox) that fail `instanceof Error` but carry a `message`.
 *
 * @example
 * ```ts
 * messageOf(new Error('boom'));                  // 'boom'
 * messageOf({ message: 'ENOENT: no such file' }); // 'ENOENT: no such file'
 * ```
 */
export function messageOf(err: unknown): string {
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return errorMessage(err);
}
