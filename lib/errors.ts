/**
 * The one error class Tributary throws for bad input: a bad option, an invalid graph,
 * a failed script. Its `code` lets callers branch without parsing messages.
 *
 * @example
 * ```ts
 * try { parseDuration('5 parsecs', 'interval'); }
 * catch (e) { if (e instanceof TributaryError) console.log(e.code); } // 'BAD_OPTION'
 * ```
 */
export class TributaryError extends Error {
  override readonly name = 'TributaryError';
  constructor(
    readonly code: TributaryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What went wrong, in a word a program can test. */
export type TributaryErrorCode =
  | 'BAD_OPTION'
  | 'UNKNOWN_KIND'
  | 'UNKNOWN_NODE'
  | 'DUPLICATE_NODE'
  | 'RESERVED_NAME'
  | 'BAD_LINK'
  | 'CYCLE'
  | 'UNCONNECTED'
  | 'STATE'
  | 'SCRIPT'
  | 'NODE_FAILED';

/**
 * Turns anything thrown into a readable one-line message, also for errors from another
 * realm (a VM context, a test sandbox) that fail `instanceof Error` but carry a `message`.
 *
 * @example
 * ```ts
 * errorMessage(new Error('boom'));                  // 'boom'
 * errorMessage('plain');                            // 'plain'
 * errorMessage({ message: 'ENOENT: no such file' }); // 'ENOENT: no such file'
 * ```
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
