import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { errorMessage } from '../../errors';
import { shownUrl } from '../../util/redact';
import { CliError, EXIT, type CliIO } from '../exit';

/** Options of {@link entwineVerifyCommand}. */
export interface EntwineVerifyOptions {
  /** Only this substream (default: every substream in the store). */
  substream?: string;
  /** PEM file of the public key signatures must verify with (default: the key recorded in the store). */
  publicKey?: string;
  /** Print JSON instead of text. */
  json?: boolean;
}

/**
 * `tributary entwine verify <store> [--substream id] [--public-key pem]`: walks each substream
 * of the store and reports the first broken link. Exit codes: 0 every substream intact, 1 a
 * broken link (modified payload, reordered or missing entry, bad signature, entry or head
 * mismatch), 2 usage (no such store or substream, an unreadable key).
 *
 * @example
 * ```ts
 * const code = await entwineVerifyCommand('./chains', { publicKey: './keys/a.pub.pem' }, process);
 * ```
 */
export async function entwineVerifyCommand(store: string, options: EntwineVerifyOptions, io: CliIO): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- entwine loads only for this command
  const e = require('../../entwine') as typeof import('../../entwine');
  const isUrl = /^(memory:|sqlite:|mysql:|mariadb:|postgres(ql)?:|rediss?:)/i.test(store);
  if (!isUrl && !existsSync(join(store, 'entwine.db'))) throw new CliError(EXIT.USAGE, `no substream store at ${store} (no entwine.db)`);
  if (/^sqlite:/i.test(store) && !/^sqlite::memory:/i.test(store) && !existsSync(store.slice('sqlite:'.length))) {
    throw new CliError(EXIT.USAGE, `no substream store at ${store}`);
  }
  let publicKey: KeyObject | undefined;
  if (options.publicKey !== undefined) {
    try {
      publicKey = e.loadPublicKey(options.publicKey, '--public-key');
    } catch (err) {
      throw new CliError(EXIT.USAGE, errorMessage(err));
    }
  }
  let kv;
  try {
    kv = await e.openEntwineStore(store);
  } catch (err) {
    throw new CliError(EXIT.USAGE, `cannot open ${shownUrl(store)}: ${errorMessage(err)}`);
  }
  try {
    const all = await e.listSubstreams(kv);
    const ids = options.substream !== undefined ? [options.substream] : all;
    if (options.substream !== undefined && !all.includes(options.substream)) {
      throw new CliError(EXIT.USAGE, `no substream '${options.substream}' in ${shownUrl(store)} (found: ${all.join(', ') || 'none'})`);
    }
    if (ids.length === 0) throw new CliError(EXIT.USAGE, `no substream in ${shownUrl(store)}`);
    const results = [];
    for (const id of ids) results.push(await e.verifySubstream(kv, id, { publicKey }));
    if (options.json) io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else {
      for (const r of results) {
        io.stdout.write(
          r.ok
            ? `${r.substream}: intact (${r.entries} entries, ${r.anchors} anchors)\n`
            : `${r.substream}: BROKEN at entry ${r.index} (${r.broken}): ${r.reason}\n`,
        );
      }
    }
    return results.every((r) => r.ok) ? EXIT.OK : EXIT.RUNTIME;
  } finally {
    await kv.close();
  }
}
