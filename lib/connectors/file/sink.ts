import { TributaryError } from '../../errors';
import { defineNode } from '../../nodes/registry';
import { formatCsvRecord } from './csv';
import { batchedLineSink, ndjsonLine, type LineTarget } from './writer';

/** Options of {@link fileSink}. */
export interface FileSinkOptions {
  /** File to append to (created with its directory if missing). */
  path: string;
  /** `ndjson`, `csv`, or `auto` (default: `.csv`/`.tsv` files are CSV, anything else NDJSON). */
  format?: 'auto' | 'ndjson' | 'csv';
  /** CSV: the columns, in order (default: the keys of the first object written). */
  columns?: string[];
  /** CSV: write a header row when the file is new or empty (default true). */
  header?: boolean;
  /** CSV field delimiter (default `,`; a `.tsv` file defaults to a tab). */
  delimiter?: string;
  /** Rotate when the file would grow past this many bytes: `path` → `path.1` → `path.2` … */
  rotateBytes?: number;
  /** Rotated files to keep (default 5). */
  keep?: number;
  /** fsync after each write before acking (default false). */
  fsync?: boolean;
}

/** Resolved options of {@link fileSink}. */
export interface FileSinkResolved {
  path: string;
  format: 'auto' | 'ndjson' | 'csv';
  columns?: string[];
  header: boolean;
  delimiter?: string;
  rotateBytes?: number;
  keep: number;
  fsync: boolean;
}

/**
 * Sink appending each event to a file as an NDJSON line or a CSV record, acking events once
 * their write succeeded (events arriving during a write are written together in the next
 * one). With `rotateBytes`, a file about to grow past the size is renamed to `path.1` (older
 * ones shift up to `path.<keep>`) and a new one is started (with a CSV header). Payloads that
 * cannot be written are nacked on their own; a failed write nacks its events.
 *
 * @example
 * ```ts
 * net.add('archive', connectors.fileSink({ path: 'out/alerts.ndjson', rotateBytes: 10_000_000, keep: 3 }));
 * ```
 */
export const fileSink = defineNode<FileSinkOptions, FileSinkResolved>({
  name: 'file_sink',
  io: 'files',
  role: 'sink',
  summary: 'Appends each event to a file as NDJSON or CSV; optional rotation by size; acks after the write.',
  options: {
    path: { type: 'string', required: true, description: 'file to append to (created with its directory)' },
    format: { type: 'string', enum: ['auto', 'ndjson', 'csv'], default: 'auto', description: 'auto: .csv/.tsv files are CSV, others NDJSON' },
    columns: { type: 'array', description: 'CSV columns in order (default: keys of the first object)' },
    header: { type: 'boolean', default: true, description: 'CSV: write a header row into a new or empty file' },
    delimiter: { type: 'string', description: 'CSV field delimiter (default ",", or a tab for .tsv)' },
    rotateBytes: { type: 'integer', min: 1, description: 'rotate when the file would grow past this many bytes' },
    keep: { type: 'integer', min: 1, default: 5, description: 'rotated files to keep (path.1 … path.<keep>)' },
    fsync: { type: 'boolean', default: false, description: 'fsync after each write, before acking' },
  },
  positional: ['path'],
  example: "net.add('archive', connectors.fileSink({ path: 'out/alerts.ndjson', rotateBytes: 10_000_000 }));",
  luaExample: 'tb.create_file_sink("archive", "out/alerts.ndjson")',
  build: (o) => {
    if (o.path === '') throw new TributaryError('BAD_OPTION', "node kind 'file_sink': option 'path' must not be empty");
    const format = o.format !== 'auto' ? o.format : /\.(csv|tsv)$/i.test(o.path) ? 'csv' : 'ndjson';
    const delimiter = o.delimiter ?? (/\.tsv$/i.test(o.path) ? '\t' : ',');
    if (delimiter === '' || delimiter.includes('"') || /[\r\n]/.test(delimiter)) {
      throw new TributaryError('BAD_OPTION', "node kind 'file_sink': option 'delimiter' must be a non-empty string without quotes or line breaks");
    }
    if (o.columns && !o.columns.every((c) => typeof c === 'string')) {
      throw new TributaryError('BAD_OPTION', "node kind 'file_sink': option 'columns' must be a list of strings");
    }
    return {
      role: 'sink',
      kind: 'file_sink',
      create: (ctx) => {
        let columns = o.columns;
        const format1 = (payload: unknown): string => {
          if (format === 'ndjson') return ndjsonLine(payload);
          if (Array.isArray(payload)) return formatCsvRecord(payload, delimiter);
          if (payload === null || typeof payload !== 'object') return formatCsvRecord([payload], delimiter);
          const row = payload as Record<string, unknown>;
          columns ??= Object.keys(row);
          return formatCsvRecord(columns.map((c) => row[c]), delimiter);
        };
        const headerLine = () => (format === 'csv' && o.header && columns ? formatCsvRecord(columns, delimiter) + '\n' : '');
        const open = async (): Promise<LineTarget> => {
          const fs = require('node:fs/promises') as typeof import('node:fs/promises');
          const path = require('node:path') as typeof import('node:path');
          await fs.mkdir(path.dirname(path.resolve(o.path)), { recursive: true });
          let handle = await fs.open(o.path, 'a');
          let size = (await handle.stat()).size;
          const rotate = async () => {
            await handle.close();
            for (let i = o.keep - 1; i >= 1; i--) {
              await fs.rename(`${o.path}.${i}`, `${o.path}.${i + 1}`).catch((e: NodeJS.ErrnoException) => {
                if (e.code !== 'ENOENT') throw e;
              });
            }
            await fs.rename(o.path, `${o.path}.1`);
            handle = await fs.open(o.path, 'a');
            size = 0;
          };
          const writeChunk = async (text: string) => {
            if (text === '') return;
            const buf = Buffer.from(text, 'utf8');
            await handle.write(buf);
            size += buf.length;
          };
          return {
            async write(lines) {
              let chunk = size === 0 ? headerLine() : '';
              let chunkBytes = Buffer.byteLength(chunk);
              for (const line of lines) {
                const bytes = Buffer.byteLength(line);
                if (o.rotateBytes !== undefined && size + chunkBytes > 0 && size + chunkBytes + bytes > o.rotateBytes && size + chunkBytes > Buffer.byteLength(headerLine())) {
                  await writeChunk(chunk);
                  await rotate();
                  chunk = headerLine();
                  chunkBytes = Buffer.byteLength(chunk);
                }
                chunk += line;
                chunkBytes += bytes;
              }
              await writeChunk(chunk);
              if (o.fsync) await handle.sync();
            },
            close: () => handle.close(),
          };
        };
        return batchedLineSink(ctx, format1, async () => {
          try {
            return await open();
          } catch (err) {
            throw new Error(`${o.path}: ${(err as Error).message}`);
          }
        });
      },
    };
  },
});
