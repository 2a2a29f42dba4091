import { defineNode } from './registry';
import { sinkStage } from './stage';

/** Somewhere text can be written: `process.stdout`, a file stream, or a test's collector. */
export interface TextOutput {
  write(text: string): unknown;
}

/** Options of {@link tester}. */
export interface TesterOptions {
  /** Printed per event without a newline; `""` prints each payload on its own line. */
  indicator?: string;
  /** Where to write; default `process.stdout`. */
  output?: TextOutput;
}

/**
 * Renders a payload for printing: strings as they are, bytes as UTF-8, the rest as JSON.
 *
 * @example
 * ```ts
 * formatPayload({ a: 1 }); // '{"a":1}'
 * formatPayload('hi');     // 'hi'
 * ```
 */
export function formatPayload(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload).toString('utf8');
  if (payload === undefined) return 'undefined';
  return JSON.stringify(payload);
}

/**
 * Sink printing its indicator per event (no newline), or the payload on its own line when the
 * indicator is empty. Acks each event after writing it.
 *
 * @example
 * ```ts
 * net.add('tick_printer', nodes.tester({ indicator: '.' }));
 * ```
 */
export const tester = defineNode<TesterOptions, { indicator: string; output?: TextOutput }>({
  name: 'tester',
  role: 'sink',
  summary: 'Prints the indicator per event, or each payload on its own line when the indicator is "".',
  options: {
    indicator: { type: 'string', default: '', description: 'text printed per event; "" prints the payload' },
    output: { type: 'object', description: 'where to write (anything with write(text)); default stdout' },
  },
  positional: ['indicator'],
  example: "net.add('tick_printer', nodes.tester({ indicator: '.' }));",
  luaExample: 'tb.create_tester("tick_printer", ".")',
  build: ({ indicator, output }) => ({
    role: 'sink',
    kind: 'tester',
    create: (ctx) => {
      const out = output ?? process.stdout;
      const write = indicator === '' ? (p: unknown) => out.write(formatPayload(p) + '\n') : () => out.write(indicator);
      return sinkStage(ctx, write, 1, (e) => e.payload);
    },
  }),
});

/** Options of {@link printer}. */
export interface PrinterOptions {
  output?: TextOutput;
}

/**
 * Sink printing each payload on its own line (JSON for objects): `tester` with an empty
 * indicator, under a name that says what it does.
 *
 * @example
 * ```ts
 * net.add('liability_printer', nodes.printer());
 * ```
 */
export const printer = defineNode<PrinterOptions, { output?: TextOutput }>({
  name: 'printer',
  role: 'sink',
  summary: 'Prints each payload on its own line (JSON for objects).',
  options: {
    output: tester.kind.options.output,
  },
  positional: [],
  example: "net.add('liability_printer', nodes.printer());",
  luaExample: 'tb.create_printer("liability_printer")',
  build: ({ output }) => ({ ...tester.kind.build({ indicator: '', output }), kind: 'printer' }),
});
