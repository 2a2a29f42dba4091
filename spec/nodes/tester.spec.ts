import { createEvent, nodes, withError, type Event, type NodeSpec } from 'tributary';
import { textRecorder } from 'tributary/testing';
import { errorEvent, events, probeContext, runAll, sinkOf, testScheduler, tracked } from './support';

function printTo(make: (out: { write(s: string): void }) => NodeSpec, marbles: string, values: Record<string, unknown>, sub?: string) {
  const t = testScheduler();
  const out = textRecorder(t);
  const ctx = probeContext('tick_printer', t);
  t.run(({ cold, expectObservable }) => {
    const input = cold(marbles, events(values));
    expectObservable(input.pipe(sinkOf(make(out), ctx)), sub).toBe(sub ? '' : marbles.replace(/[a-z]/g, '-'));
  });
  return { out, ctx };
}

describe('tester', () => {
  const dots = (output: { write(s: string): void }) => nodes.tester({ indicator: '.', output });
  const lines = (output: { write(s: string): void }) => nodes.tester({ indicator: '', output });

  it('prints nothing for no events', () => {
    expect(printTo(dots, '---|', {}).out.text).toBe('');
  });

  it('prints the indicator once per event, without a newline, in the frame the event arrives', () => {
    const { out } = printTo(dots, '-a--bc|', { a: 1, b: 2, c: 3 });
    expect(out.text).toBe('...');
    expect(out.writes.map((w) => w.frame)).toEqual([1, 4, 5]);
  });

  it('prints each payload on its own line when the indicator is empty: strings as is, bytes as UTF-8, the rest as JSON', () => {
    const { out } = printTo(lines, 'abcde|', { a: 'hello', b: { stake: 5 }, c: 42, d: new TextEncoder().encode('bytes'), e: null });
    expect(out.text).toBe('hello\n{"stake":5}\n42\nbytes\nnull\n');
  });

  it('does not print error events; it nacks and logs them', () => {
    const { out, ctx } = printTo(dots, 'axb|', { a: 1, x: errorEvent(2, 'boom', 'parse'), b: 3 });
    expect(out.text).toBe('..');
    expect(ctx.logger.warnings).toEqual([expect.stringMatching(/node 'tick_printer': error event .+ from 'parse': boom/)]);
  });

  it('keeps printing an input that never completes, and unsubscribes on early unsubscribe', () => {
    const { out } = printTo(dots, '-a-b-c-d-', { a: 1, b: 2, c: 3, d: 4 }, '^----!');
    expect(out.text).toBe('..');
  });

  it('acks each event exactly once after writing it, and nacks an error event', async () => {
    const sent = [tracked(1), tracked(2)];
    const failed = tracked(3);
    const out = textRecorder();
    const ctx = probeContext('p');
    await runAll([sent[0].event, withError(failed.event, 'bad', 'x'), sent[1].event], sinkOf(dots(out), ctx));
    expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], ['ack']]);
    expect(failed.delivery.calls).toEqual(['nack']);
    expect(ctx.stats).toMatchObject({ acked: 2, nacked: 1 });
  });

  it('nacks (not acks) an event whose write throws, and keeps printing', async () => {
    const sent = [tracked('a'), tracked('b')];
    let n = 0;
    const ctx = probeContext('p');
    const output = {
      write(s: string) {
        if (n++ === 0) throw new Error('EPIPE');
        return s.length;
      },
    };
    await runAll(
      sent.map((s) => s.event),
      sinkOf(lines(output), ctx),
    );
    expect(sent.map((s) => s.delivery.calls)).toEqual([['nack'], ['ack']]);
    expect(ctx.logger.errors).toEqual([expect.stringMatching(/EPIPE/)]);
  });

  it('defaults to an empty indicator and rejects non-string indicators and outputs that are not objects', () => {
    const out = textRecorder();
    return runAll([createEvent('x')], sinkOf(nodes.tester({ output: out }), probeContext('p'))).then(() => {
      expect(out.text).toBe('x\n');
      expect(() => nodes.tester({ indicator: 1 as never })).toThrow(/node kind 'tester': option 'indicator' must be a string/);
      expect(() => nodes.tester({ output: 'stdout' as never })).toThrow(/node kind 'tester': option 'output' must be an object/);
    });
  });
});

describe('printer', () => {
  it('prints each payload on its own line, like tester with an empty indicator', async () => {
    const out = textRecorder();
    const events: Event[] = [createEvent({ liability: 130 }), createEvent('done')];
    await runAll(events, sinkOf(nodes.printer({ output: out }), probeContext('liability_printer')));
    expect(out.text).toBe('{"liability":130}\ndone\n');
  });

  it('is its own kind and takes no indicator', () => {
    expect(nodes.printer().kind).toBe('printer');
    expect(() => nodes.printer({ indicator: '.' } as never)).toThrow(/node kind 'printer': unknown option 'indicator'/);
  });
});
