import type { Network } from 'tributary';
import { buildTickerNetwork } from '../../examples/quickstart/ticker';
import { VirtualTime, textRecorder } from 'tributary/testing';

/** The original README's network, built in TypeScript (the README's quickstart example). */
function buildReadmeNetwork(t: VirtualTime, out: { write(s: string): void }): Network {
  return buildTickerNetwork({ scheduler: t.scheduler, output: out });
}

describe('the README ticker network under virtual time', () => {
  it('prints 20 dots from forwarder2 and 5 from filter_2s in 10 s, in the right frames', () => {
    const t = new VirtualTime();
    const out = textRecorder(t.scheduler);
    const net = buildReadmeNetwork(t, out);
    const report = t.run(net, '10s');

    expect(out.text).toBe('.'.repeat(25));
    // Every tick frame prints once via forwarder2; the rate-limited frames print twice.
    const frames = out.writes.map((w) => w.frame);
    const ticks = Array.from({ length: 20 }, (_, i) => (i + 1) * 500);
    const passed = [500, 2500, 4500, 6500, 8500];
    const expected = ticks.flatMap((f) => (passed.includes(f) ? [f, f] : [f]));
    expect(frames).toEqual(expected);

    expect(report.timedOut).toBe(false);
    expect(report.stats.ticker_500ms.out).toBe(20);
    expect(report.stats.filter_2s).toMatchObject({ in: 20, out: 5, dropped: 15 });
    expect(report.stats.forwarder2).toMatchObject({ in: 20, out: 20 });
    expect(report.stats.tick_printer.in).toBe(25);
    expect(net.state).toBe('stopped');
  });

  it('starts ticking at start(), not when the node is created', () => {
    const t = new VirtualTime();
    const out = textRecorder(t.scheduler);
    let net!: Network;
    t.scheduler.run(() => {
      net = buildReadmeNetwork(t, out);
      t.scheduler.schedule(() => net.startSync(), 1000);
      t.scheduler.schedule(() => void net.stop(), 2001);
    });
    expect(out.writes.map((w) => w.frame)).toEqual([1500, 1500, 2000]);
  });
});
