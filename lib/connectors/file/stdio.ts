import type { Readable, Writable } from 'node:stream';
import { TributaryError } from '../../errors';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { flowSource } from '../flow';
import { checkLineFormat, lineFormatOptions, readLines } from './lines';
import { batchedLineSink, ndjsonLine } from './writer';

/** The options of {@link stdinSource}, declared once: types, validation, defaults and docs come from here. */
export const stdinSourceOptions = {
  format: opt.enum(['ndjson', 'csv'] as const, 'record format').withDefault('ndjson'),
  ...lineFormatOptions,
  delimiter: lineFormatOptions.delimiter.describe('CSV field delimiter').withDefault(','),
  input: opt.any<Readable>('stream to read instead of process.stdin'),
};

/** Options of {@link stdinSource}. */
export type StdinSourceOptions = InputOf<typeof stdinSourceOptions>;

/**
 * Source reading NDJSON (or CSV) records from standard input, one event per line; end of
 * input completes it, so `producer | tributary run net.lua` processes a pipe and exits.
 *
 * @example
 * ```ts
 * net.add('in', connectors.stdinSource());
 * ```
 */
export const stdinSource = defineNode({
  name: 'stdin_source',
  role: 'source',
  summary: 'Reads NDJSON (or CSV) from standard input, one event per line; end of input completes it.',
  options: stdinSourceOptions,
  positional: ['format'],
  example: "net.add('in', connectors.stdinSource());",
  luaExample: 'tb.create_stdin_source("in")',
  build: (o) => {
    checkLineFormat('stdin_source', o);
    if (o.input !== undefined && typeof (o.input as Readable).on !== 'function') {
      throw new TributaryError('BAD_OPTION', "node kind 'stdin_source': option 'input' must be a readable stream");
    }
    return {
      role: 'source',
      kind: 'stdin_source',
      create: (ctx) => flowSource(ctx, o.maxInFlight, (io) => readLines(ctx, io, o.input ?? process.stdin, 'stdin', o)),
    };
  },
});

/** The options of {@link stdoutSink}, declared once: types, validation, defaults and docs come from here. */
export const stdoutSinkOptions = {
  output: opt.any<Writable>('stream to write instead of process.stdout'),
};

/** Options of {@link stdoutSink}. */
export type StdoutSinkOptions = InputOf<typeof stdoutSinkOptions>;

/**
 * Sink writing each event's payload to standard output as one NDJSON line, acking events
 * once the stream took their write.
 *
 * @example
 * ```ts
 * net.add('out', connectors.stdoutSink());
 * ```
 */
export const stdoutSink = defineNode({
  name: 'stdout_sink',
  role: 'sink',
  summary: 'Writes each payload to standard output as an NDJSON line; acks once written.',
  options: stdoutSinkOptions,
  positional: [],
  example: "net.add('out', connectors.stdoutSink());",
  luaExample: 'tb.create_stdout_sink("out")',
  build: (o) => {
    if (o.output !== undefined && typeof (o.output as Writable).write !== 'function') {
      throw new TributaryError('BAD_OPTION', "node kind 'stdout_sink': option 'output' must be a writable stream");
    }
    return {
      role: 'sink',
      kind: 'stdout_sink',
      create: (ctx) =>
        batchedLineSink(ctx, ndjsonLine, async () => {
          const out = o.output ?? process.stdout;
          return {
            write: (lines) =>
              new Promise<void>((resolve, reject) =>
                out.write(lines.join(''), (err) => (err ? reject(new Error(`stdout: ${err.message}`)) : resolve())),
              ),
            close: async () => undefined,
          };
        }),
    };
  },
});
