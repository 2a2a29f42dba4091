import { opt } from './options';
import { defineNode } from './registry';
import { payloadOf, sinkStage } from './stage';
import type { SinkNode } from './types';

/** Somewhere text can be written: `process.stdout`, a file stream, or a test's collector. */
export interface TextOutput {
  write(text: string): unknown;
}

/** Where a printing sink writes: anything with `write(text)`; default `process.stdout`. */
const outputOption = opt.object<TextOutput>('where to write (anything with write(text)); default stdout');

/** The node behind both printing kinds: the indicator per event, or the payload per line when it is "". */
function printingSink(kind: string, indicator: string, output: TextOutput | undefined): SinkNode {
  return {
    role: 'sink',
    kind,
    create: (ctx) => {
      const out = output ?? process.stdout;
      const write = indicator === '' ? (p: unknown) => out.write(formatPayload(p) + '\n') : () => out.write(indicator);
      return sinkStage(ctx, write, 1, payloadOf);
    },
  };
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
export const tester = defineNode({
  name: 'tester',
  role: 'sink',
  summary: 'Prints the indicator per event, or each payload on its own line when the indicator is "".',
  options: {
    indicator: opt.string('text printed per event; "" prints the payload').withDefault(''),
    output: outputOption,
  },
  positional: ['indicator'],
  example: "net.add('tick_printer', nodes.tester({ indicator: '.' }));",
  luaExample: 'tb.create_tester("tick_printer", ".")',
  build: ({ indicator, output }) => printingSink('tester', indicator, output),
});

/**
 * Sink printing each payload on its own line (JSON for objects): `tester` with an empty
 * indicator, under a name that says what it does.
 *
 * @example
 * ```ts
 * net.add('liability_printer', nodes.printer());
 * ```
 */
export const printer = defineNode({
  name: 'printer',
  role: 'sink',
  summary: 'Prints each payload on its own line (JSON for objects).',
  options: {
    output: outputOption,
  },
  positional: [],
  example: "net.add('liability_printer', nodes.printer());",
  luaExample: 'tb.create_printer("liability_printer")',
  build: ({ output }) => printingSink('printer', '', output),
});
