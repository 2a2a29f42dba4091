import type { Readable, Writable } from 'node:stream';
import { TributaryError } from '../../errors';
import { defineNode } from '../../nodes/registry';
import { flowSource } from '../flow';
import { checkLineFormat, lineFormatOptions, readLines } from './lines';
import { batchedLineSink, ndjsonLine } from './writer';

/** Options of {@link stdinSource}. */
export interface StdinSourceOptions {
  /** `ndjson` (default) or `csv`. */
  format?: 'ndjson' | 'csv';
  header?: boolean;
  columns?: string[];
  delimiter?: string;
  cast?: boolean;
  maxInFlight?: number;
  /** The stream to read (default `process.stdin`; tests pass their own). */
  input?: Readable;
}

/** Resolved options of {@link stdinSource}. */
export interface StdinSourceResolved {
  format: 'ndjson' | 'csv';
  header: boolean;
  columns?: string[];
  delimiter: string;
  cast: boolean;
  maxInFlight: number;
  input?: Readable;
}

/**
 * Source reading NDJSON (or CSV) records from standard input, one event per line; end of
 * input completes it, so `producer | tributary run net.lua` processes a pipe and exits.
 *
 * @example
 * ```ts
 * net.add('in', connectors.stdinSource());
 * ```
 */
export const stdinSource = defineNode<StdinSourceOptions, StdinSourceResolved>({
  name: 'stdin_source',
  role: 'source',
  summary: 'Reads NDJSON (or CSV) from standard input, one event per line; end of input completes it.',
  options: {
    format: { type: 'string', enum: ['ndjson', 'csv'], default: 'ndjson', description: 'record format' },
    ...lineFormatOptions,
    input: { type: 'any', description: 'stream to read instead of process.stdin' },
  },
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

/** Options of {@link stdoutSink}. */
export interface StdoutSinkOptions {
  /** The stream to write (default `process.stdout`; tests pass their own). */
  output?: Writable;
}

/**
 * Sink writing each event's payload to standard output as one NDJSON line, acking events
 * once the stream took their write.
 *
 * @example
 * ```ts
 * net.add('out', connectors.stdoutSink());
 * ```
 */
export const stdoutSink = defineNode<StdoutSinkOptions, { output?: Writable }>({
  name: 'stdout_sink',
  role: 'sink',
  summary: 'Writes each payload to standard output as an NDJSON line; acks once written.',
  options: {
    output: { type: 'any', description: 'stream to write instead of process.stdout' },
  },
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
              new Promise<void>((resolve, reject) => out.write(lines.join(''), (err) => (err ? reject(new Error(`stdout: ${err.message}`)) : resolve()))),
            close: async () => undefined,
          };
        }),
    };
  },
});
