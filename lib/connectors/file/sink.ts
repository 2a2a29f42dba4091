import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { csvOptions, fileFormat, fileFormatField } from './lines';
import { formatCsvRecord } from './csv';
import { batchedLineSink, ndjsonLine, TargetUnavailableError, type LineTarget } from './writer';

/** Error codes saying a file can never be created or opened for appending at its path. */
const UNCREATABLE = new Set(['ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG', 'ELOOP', 'EEXIST']);

/** The options of {@link fileSink}, declared once: types, validation, defaults and docs come from here. */
export const fileSinkOptions = {
  path: opt.string('file to append to (created with its directory)').require(),
  format: fileFormatField,
  ...csvOptions,
  columns: csvOptions.columns.describe('CSV columns in order (default: keys of the first object)'),
  header: csvOptions.header.describe('CSV: write a header row into a new or empty file'),
  rotateBytes: opt.integer('rotate when the file would grow past this many bytes', { min: 1 }),
  keep: opt.integer('rotated files to keep (path.1 … path.<keep>)', { min: 1 }).withDefault(5),
  fsync: opt.boolean('fsync after each write, before acking').withDefault(false),
};

/** Options of {@link fileSink}. */
export type FileSinkOptions = InputOf<typeof fileSinkOptions>;

/**
 * Sink appending each event to a file as an NDJSON line or a CSV record, acking events once
 * their write succeeded (events arriving during a write are written together in the next
 * one). With `rotateBytes`, a file about to grow past the size is renamed to `path.1` (older
 * ones shift up to `path.<keep>`) and a new one is started (with a CSV header). Payloads that
 * cannot be written are nacked on their own; a failed write nacks its events. A path that
 * cannot be created (a parent is a regular file, no permission …) fails the node, naming the
 * path: the events are nacked and the network stops with that error.
 *
 * @example
 * ```ts
 * net.add('archive', connectors.fileSink({ path: 'out/alerts.ndjson', rotateBytes: 10_000_000, keep: 3 }));
 * ```
 */
export const fileSink = defineNode({
  name: 'file_sink',
  io: 'files',
  role: 'sink',
  summary: 'Appends each event to a file as NDJSON or CSV; optional rotation by size; acks after the write.',
  options: fileSinkOptions,
  positional: ['path'],
  example: "net.add('archive', connectors.fileSink({ path: 'out/alerts.ndjson', rotateBytes: 10_000_000 }));",
  luaExample: 'tb.create_file_sink("archive", "out/alerts.ndjson")',
  build: (o) => {
    const { format, delimiter } = fileFormat('file_sink', o.path, o.format, o.delimiter, o.columns);
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
          return formatCsvRecord(
            columns.map((c) => row[c]),
            delimiter,
          );
        };
        const headerLine = () => (format === 'csv' && o.header && columns ? formatCsvRecord(columns, delimiter) + '\n' : '');
        const open = async (): Promise<LineTarget> => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
          const fs = require('node:fs/promises') as typeof import('node:fs/promises');
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
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
                if (
                  o.rotateBytes !== undefined &&
                  size + chunkBytes > 0 &&
                  size + chunkBytes + bytes > o.rotateBytes &&
                  size + chunkBytes > Buffer.byteLength(headerLine())
                ) {
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
            const code = (err as NodeJS.ErrnoException).code;
            // The path itself is wrong (a parent is a file, no permission …): no later write can succeed.
            if (code !== undefined && UNCREATABLE.has(code)) {
              throw new TargetUnavailableError(`cannot create or open ${o.path}: ${(err as Error).message}`);
            }
            throw new Error(`${o.path}: ${(err as Error).message}`);
          }
        });
      },
    };
  },
});
