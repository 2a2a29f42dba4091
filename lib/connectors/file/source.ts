import { TributaryError } from '../../errors';
import { defineNode } from '../../nodes/registry';
import { flowSource } from '../flow';
import { checkLineFormat, lineFormatOptions, readLines } from './lines';

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** File to read. */
  path: string;
  /** `ndjson`, `csv`, or `auto` (default: `.csv`/`.tsv` files are CSV, anything else NDJSON). */
  format?: 'auto' | 'ndjson' | 'csv';
  /** CSV: the first record names the columns (default true); each row becomes an object. */
  header?: boolean;
  /** CSV: column names when there is no header row (without either, rows are lists). */
  columns?: string[];
  /** CSV field delimiter (default `,`; a `.tsv` file defaults to a tab). */
  delimiter?: string;
  /** CSV: numeric fields become numbers (default false). */
  cast?: boolean;
  /** Cap on emitted but unsettled events; reading pauses past it (default 1000). */
  maxInFlight?: number;
}

/** Resolved options of {@link fileSource}. */
export interface FileSourceResolved {
  path: string;
  format: 'auto' | 'ndjson' | 'csv';
  header: boolean;
  columns?: string[];
  delimiter?: string;
  cast: boolean;
  maxInFlight: number;
}

/**
 * Source reading a file line by line: NDJSON (one event per line) or CSV (one event per
 * record, an object keyed by the header row). The end of the file completes the source. A
 * line that does not parse becomes an error event naming the file and line, and reading goes
 * on. Reading pauses while `maxInFlight` events are unsettled, so a file larger than memory
 * streams through. A missing file is logged with its path and completes the source.
 *
 * @example
 * ```ts
 * net.add('bets', connectors.fileSource({ path: 'data/bets.csv', cast: true }));
 * ```
 */
export const fileSource = defineNode<FileSourceOptions, FileSourceResolved>({
  name: 'file_source',
  io: 'files',
  role: 'source',
  summary: 'Reads an NDJSON or CSV file line by line, one event per record; end of file completes it.',
  options: {
    path: { type: 'string', required: true, description: 'file to read' },
    format: { type: 'string', enum: ['auto', 'ndjson', 'csv'], default: 'auto', description: 'auto: .csv/.tsv files are CSV, others NDJSON' },
    ...lineFormatOptions,
    delimiter: { type: 'string', description: 'CSV field delimiter (default ",", or a tab for .tsv)' },
  },
  positional: ['path'],
  example: "net.add('bets', connectors.fileSource({ path: 'data/bets.csv', cast: true }));",
  luaExample: 'tb.create_file_source("bets", "data/bets.ndjson")',
  build: (o) => {
    if (o.path === '') throw new TributaryError('BAD_OPTION', "node kind 'file_source': option 'path' must not be empty");
    const tsv = /\.tsv$/i.test(o.path);
    const format = o.format !== 'auto' ? o.format : /\.(csv|tsv)$/i.test(o.path) ? 'csv' : 'ndjson';
    const delimiter = o.delimiter ?? (tsv ? '\t' : ',');
    checkLineFormat('file_source', { delimiter, columns: o.columns });
    return {
      role: 'source',
      kind: 'file_source',
      create: (ctx) =>
        flowSource(ctx, o.maxInFlight, async (io) => {
          const fs = require('node:fs') as typeof import('node:fs');
          const input = fs.createReadStream(o.path, { encoding: 'utf8' });
          await readLines(ctx, io, input, o.path, { format, header: o.header, columns: o.columns, delimiter, cast: o.cast });
        }),
    };
  },
});
