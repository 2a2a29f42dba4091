import { createEvent, nodes } from 'tributary';
import { functionNodeContract } from './function-node';
import { pipelineOf, probeContext, runAll, ticks, tracked } from './support';

describe('tap', () => {
  functionNodeContract({
    kind: 'tap',
    make: (fn, concurrency) => nodes.tap({ fn, concurrency }),
    pass: () => 'ignored',
  });

  it('passes the very same event on after the side effect, ignoring its result', async () => {
    const audit: unknown[] = [];
    const sent = tracked({ stake: 5 });
    const out = await runAll([sent.event], pipelineOf(nodes.tap({ fn: (bet: unknown) => audit.push(bet) }), probeContext('audit')));
    expect(audit).toEqual([{ stake: 5 }]);
    expect(out).toEqual([sent.event]);
    expect(out[0]).toBe(sent.event);
    expect(sent.delivery.calls).toEqual([]);
  });

  it('holds the event until an async side effect has finished', async () => {
    const log: string[] = [];
    const op = pipelineOf(
      nodes.tap({
        fn: async (p: string) => {
          await ticks(5);
          log.push(`saved ${p}`);
        },
      }),
      probeContext('audit'),
    );
    const input = ['a', 'b'].map((p) => createEvent(p));
    await new Promise<void>((resolve) =>
      runAll(input, op).then((out) => {
        for (const e of out) log.push(`out ${e.payload}`);
        resolve();
      }),
    );
    expect(log).toEqual(['saved a', 'saved b', 'out a', 'out b']);
  });
});
