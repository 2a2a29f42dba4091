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
  const bad = f.columns && badColumns(f.columns);
  if (bad) throw new TributaryError('BAD_OPTION', `node kind '${kind}': option 'columns' ${bad.replace(/; .*$/, '')}`);
}

/**
 * Reads NDJSON or CSV records from a stream and emits one event per record, pausing while
 * `maxInFlight` events are unsettled; a record that does not parse becomes an error event
 * naming the line. Resolves at end of input, or when the source is stopped (the stream is
 * then destroyed). Reports the bytes it consumed as the node's progress (`read`, and with
 * `size` the `total` and `lag`: what the progress line and metrics show).
 *
 * @example
 * ```ts
 * flowSource(ctx, 1000, (io) => readLines(ctx, io, fs.createReadStream(path), path, format, { size }));
 * ```
 */
export async function readLines(
  ctx: NodeContext,
  io: FlowIO,
  input: Readable,
  where: string,
  f: LineFormat,
  opts: { size?: number } = {},
): Promise<void> {
  const stop = () => input.destroy();
  io.signal.addEventListener('abort', stop, { once: true });
  const noop = () => undefined;
  let lineNo = 0;
  let columns = f.columns;
  let pending = '';
  let pendingStart = 0;
  let read = 0;
  const size = opts.size;
  ctx.reportProgress(() =>
    size === undefined ? { read, unit: 'bytes' } : { read, total: size, lag: Math.max(0, size - read), unit: 'bytes' },
  );
  try {
    for await (const { bytes, end } of byteLines(input)) {
      read = end;
      lineNo++;
      if (io.signal.aborted) break;
      let raw: string;
      try {
        raw = utf8.decode(bytes);
      } catch {
        // One bad line is one error event; the lines around it still count.
        await io.emitError(bytes.toString('utf8'), new Error(`${where} line ${lineNo}: not valid UTF-8`), {}, noop);
        continue;
      }
      // A UTF-8 byte order mark (from Windows editors, Excel) is not part of the first line.
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
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
        // Rows keyed by a blank or repeated name would lose fields silently: refuse the file.
        const bad = badColumns(fields);
        if (bad) throw new BadFile(`${where} line ${pendingStart}: the CSV header ${bad}`);
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
  } catch (err) {
    if (io.signal.aborted) return;
    if (err instanceof BadFile) throw err;
    throw new Error(`${where}: ${errorMessage(err)}`, { cause: err });
  } finally {
    io.signal.removeEventListener('abort', stop);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A file the source cannot read as a whole (its message already names the file and line). */
class BadFile extends Error {}

/**
 * The lines of a byte stream, without their `\n` or `\r\n` ending, as bytes (so each line can
 * be checked for valid UTF-8 on its own), each with the stream offset just past it (the bytes
 * consumed so far); the last line needs no ending.
 */
async function* byteLines(input: Readable): AsyncGenerator<{ bytes: Buffer; end: number }> {
  let parts: Buffer[] = [];
  let offset = 0;
  const line = (bytes: Buffer) => (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes);
  for await (const chunk of input) {
    const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let start = 0;
    for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, start)) {
      const piece = buf.subarray(start, i);
      yield { bytes: line(parts.length === 0 ? piece : Buffer.concat([...parts, piece])), end: offset + i + 1 };
      parts = [];
      start = i + 1;
    }
    if (start < buf.length) parts.push(buf.subarray(start));
    offset += buf.length;
  }
  if (parts.length > 0) yield { bytes: line(Buffer.concat(parts)), end: offset };
}

/** What is wrong with a CSV header row (a blank or a repeated name), or undefined. */
function badColumns(names: string[]): string | undefined {
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    if (names[i].trim() === '') return `has a blank name for column ${i + 1}; name every column (or set header: false and columns)`;
    const first = seen.get(names[i]);
    if (first !== undefined) return `names column '${names[i]}' twice (columns ${first + 1} and ${i + 1}); rows would lose a field`;
    seen.set(names[i], i);
  }
  return undefined;
}
