import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { flowSource } from '../flow';
import { fileFormat, fileFormatField, lineFormatOptions, readLines } from './lines';

/** The options of {@link fileSource}, declared once: types, validation, defaults and docs come from here. */
export const fileSourceOptions = {
  path: opt.string('file to read').require(),
  format: fileFormatField,
  ...lineFormatOptions,
};

/** Options of {@link fileSource}. */
export type FileSourceOptions = InputOf<typeof fileSourceOptions>;

/**
 * Source reading a file line by line: NDJSON (one event per line) or CSV (one event per
 * record, an object keyed by the header row). The end of the file completes the source. A
 * line that does not parse, or is not valid UTF-8, becomes an error event naming the file and
 * line, and reading goes on. A CSV header with a blank or repeated column name fails the node
 * (rows keyed by it would lose fields). Reading pauses while `maxInFlight` events are unsettled, so a file larger than memory
 * streams through. A missing file is logged with its path and completes the source. Its
 * progress (`net.progress()`) is the bytes read of the file's size at open.
 *
 * @example
 * ```ts
 * net.add('bets', connectors.fileSource({ path: 'data/bets.csv', cast: true }));
 * ```
 */
export const fileSource = defineNode({
  name: 'file_source',
  io: 'files',
  role: 'source',
  summary: 'Reads an NDJSON or CSV file line by line, one event per record; end of file completes it.',
  options: fileSourceOptions,
  positional: ['path'],
  example: "net.add('bets', connectors.fileSource({ path: 'data/bets.csv', cast: true }));",
  luaExample: 'tb.create_file_source("bets", "data/bets.ndjson")',
  build: (o) => {
    const { format, delimiter } = fileFormat('file_source', o.path, o.format, o.delimiter, o.columns);
    return {
      role: 'source',
      kind: 'file_source',
      create: (ctx) =>
        flowSource(ctx, o.maxInFlight, async (io) => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
          const fs = require('node:fs') as typeof import('node:fs');
          // The size at open: what the progress line's percentage and the lag are measured against.
          const size = await fs.promises.stat(o.path).then(
            (st) => (st.isFile() ? st.size : undefined),
            () => undefined,
          );
          const input = fs.createReadStream(o.path);
          const f = { format, header: o.header, columns: o.columns, delimiter, cast: o.cast };
          await readLines(ctx, io, input, o.path, f, { size });
        }),
    };
  },
});
