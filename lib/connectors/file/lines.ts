import type { Readable } from 'node:stream';
import { errorMessage, TributaryError } from '../../errors';
import type { NodeContext } from '../../nodes/types';
import { opt } from '../../nodes/options';
import { deliveryFields } from '../fields';
import type { FlowIO } from '../flow';
import { castField, csvRecordOpen, parseCsvRecord } from './csv';

/** How a line-oriented source reads its records. */
export interface LineFormat {
  format: 'ndjson' | 'csv';
  /** CSV: the first record names the columns (default true). */
  header: boolean;
  /** CSV: column names when there is no header row. */
  columns?: string[];
  delimiter: string;
  /** CSV: turn numeric fields into numbers. */
  cast: boolean;
}

/**
 * The CSV options of the file connectors, declared once (`delimiter` has no default: a
 * `.tsv` file defaults to a tab, see {@link fileFormat}).
 *
 * @example
 * ```ts
 * const options = { path: opt.string('file to read').require(), ...csvOptions };
 * ```
 */
export const csvOptions = {
  header: opt.boolean('CSV: the first record names the columns').withDefault(true),
  columns: opt.array<string>('CSV: column names when there is no header row (default: lists of fields)'),
  delimiter: opt.string('CSV field delimiter (default ",", or a tab for .tsv)'),
};

/**
 * The options shared by the line-reading sources (`file_source`, `stdin_source`).
 *
 * @example
 * ```ts
 * const options = { path: opt.string('file to read').require(), ...lineFormatOptions };
 * ```
 */
export const lineFormatOptions = {
  ...csvOptions,
  cast: opt.boolean('CSV: numeric fields become numbers').withDefault(false),
  maxInFlight: deliveryFields.maxInFlight.describe('cap on emitted but unsettled events (reading pauses past it)').withDefault(1000),
};

/** The `format` option of the file connectors. */
export const fileFormatField = opt
  .enum(['auto', 'ndjson', 'csv'] as const, 'auto: .csv/.tsv files are CSV, others NDJSON')
  .withDefault('auto');

/**
 * The format and delimiter of a file connector: `auto` picks CSV for `.csv`/`.tsv` files and
 * NDJSON otherwise; the delimiter defaults to a tab for `.tsv`, else a comma. An empty path
 * or a bad delimiter or column list is an error naming the kind and option.
 *
 * @example
 * ```ts
 * fileFormat('file_source', 'data/bets.tsv', 'auto', undefined); // { format: 'csv', delimiter: '\t' }
 * ```
 */
export function fileFormat(
  kind: string,
  path: string,
  format: 'auto' | 'ndjson' | 'csv',
  delimiter: string | undefined,
  columns?: unknown[],
): { format: 'ndjson' | 'csv'; delimiter: string } {
  if (path === '') throw new TributaryError('BAD_OPTION', `node kind '${kind}': option 'path' must not be empty`);
  const f = {
    format: format !== 'auto' ? format : /\.(csv|tsv)$/i.test(path) ? 'csv' : 'ndjson',
    delimiter: delimiter ?? (/\.tsv$/i.test(path) ? '\t' : ','),
  } as const;
  checkLineFormat(kind, { delimiter: f.delimiter, columns: columns as string[] | undefined });
  return f;
}

/**
 * Checks the CSV options of a line-reading source; a bad one is an error naming the kind and option.
 *
 * @example
 * ```ts
 * checkLineFormat('file_source', { delimiter: ';' }); // ok
 * checkLineFormat('file_source', { delimiter: '' });  // throws: option 'delimiter' must be …
 * ```
 */
export function checkLineFormat(kind: string, f: Partial<LineFormat>): void {
  if (f.delimiter === '' || f.delimiter?.includes('"') || /[\r\n]/.test(f.delimiter ?? ',')) {
    throw new TributaryError(
      'BAD_OPTION',
      `node kind '${kind}': option 'delimiter' must be a non-empty string without quotes or line breaks`,
    );
  }
  if (f.columns && !f.columns.every((c) => typeof c === 'string')) {
    throw new TributaryError('BAD_OPTION', `node kind '${kind}': option 'columns' must be a list of strings`);
  }
}

/**
 * Reads NDJSON or CSV records from a stream and emits one event per record, pausing while
 * `maxInFlight` events are unsettled; a record that does not parse becomes an error event
 * naming the line. Resolves at end of input, or when the source is stopped (the stream is
 * then destroyed).
 *
 * @example
 * ```ts
 * flowSource(ctx, 1000, (io) => readLines(ctx, io, fs.createReadStream(path), path, format));
 * ```
 */
export async function readLines(ctx: NodeContext, io: FlowIO, input: Readable, where: string, f: LineFormat): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
  const readline = require('node:readline') as typeof import('node:readline');
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  const stop = () => {
    rl.close();
    input.destroy();
  };
  io.signal.addEventListener('abort', stop, { once: true });
  const noop = () => undefined;
  let lineNo = 0;
  let columns = f.columns;
  let pending = '';
  let pendingStart = 0;
  const failure = new Promise<never>((_, reject) => input.once('error', (err) => reject(new Error(`${where}: ${errorMessage(err)}`))));
  failure.catch(() => undefined);
  const read = (async () => {
    for await (const raw of rl) {
      lineNo++;
      // A UTF-8 byte order mark (from Windows editors, Excel) is not part of the first line.
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (io.signal.aborted) break;
      if (f.format === 'ndjson') {
        if (line.trim() === '') continue;
        let payload: unknown;
        try {
          payload = JSON.parse(line);
        } catch (err) {
          await io.emitError(line, new Error(`${where} line ${lineNo}: malformed JSON: ${errorMessage(err)}`), {}, noop);
          continue;
        }
        await io.emit(payload, {}, noop);
        continue;
      }
      // CSV: a quoted field may span lines.
      if (pending === '') pendingStart = lineNo;
      pending = pending === '' ? line : `${pending}\n${line}`;
      if (csvRecordOpen(pending, f.delimiter)) continue;
      const record = pending;
      pending = '';
      if (record.trim() === '') continue;
      const fields = parseCsvRecord(record, f.delimiter);
      const values = f.cast ? fields.map(castField) : fields;
      if (f.header && !columns) {
        columns = fields;
        continue;
      }
      if (!columns) {
        await io.emit(values, {}, noop);
        continue;
      }
      if (fields.length !== columns.length) {
        await io.emitError(
          record,
          new Error(`${where} line ${pendingStart}: ${fields.length} fields, expected ${columns.length} (${columns.join(', ')})`),
          {},
          noop,
        );
        continue;
      }
      const row: Record<string, unknown> = {};
      columns.forEach((c, i) => (row[c] = values[i]));
      await io.emit(row, {}, noop);
    }
    if (pending !== '' && !io.signal.aborted) {
      await io.emitError(pending, new Error(`${where} line ${pendingStart}: unterminated quoted field at end of input`), {}, noop);
    }
  })();
  try {
    await Promise.race([read, failure]);
  } finally {
    io.signal.removeEventListener('abort', stop);
    rl.close();
  }
}
