import { buildTickerNetwork } from '../../examples/quickstart/ticker';
import { VirtualTime, luaScenario, textRecorder } from 'tributary/testing';

const SCRIPT = 'examples/scripted/network.lua';

/** The dot frames the code-built README network prints in 10 s (spec/network/ticker-network.spec.ts). */
function codeBuiltFrames(): number[] {
  const t = new VirtualTime();
  const out = textRecorder(t.scheduler);
  const net = buildTickerNetwork({ scheduler: t.scheduler, output: out });
  t.run(net, '10s');
  return out.writes.map((w) => w.frame);
}

describe('examples/scripted/network.lua (the README script) under virtual time', () => {
  it('prints exactly the dots the code-built network prints, in the same frames', () => {
    const s = luaScenario({ files: [SCRIPT] });
    const report = s.run('10s');

    const ticks = Array.from({ length: 20 }, (_, i) => (i + 1) * 500);
    const passed = [500, 2500, 4500, 6500, 8500];
    const expected = ticks.flatMap((f) => (passed.includes(f) ? [f, f] : [f]));
    expect(s.output.text).toBe('.'.repeat(25));
    expect(s.output.writes.map((w) => w.frame)).toEqual(expected);
    expect(s.output.writes.map((w) => w.frame)).toEqual(codeBuiltFrames());

    expect(report.timedOut).toBe(false);
    expect(report.stats.ticker_500ms.out).toBe(20);
    expect(report.stats.filter_2s).toMatchObject({ in: 20, out: 5, dropped: 15 });
    expect(report.stats.tick_printer.in).toBe(25);
    expect(s.network.state).toBe('stopped');
  });

  it('builds the same graph as the code-built network', () => {
    const s = luaScenario({ files: [SCRIPT] });
    expect(s.network.edges()).toEqual({
      tick_printer: [],
      ticker_500ms: ['forwarder1'],
      filter_2s: ['tick_printer'],
      forwarder1: ['filter_2s', 'forwarder2'],
      forwarder2: ['tick_printer'],
    });
    s.runtime.close();
  });

  it('records what reaches the tester, per frame, through the scenario sinks', () => {
    const s = luaScenario({ files: [SCRIPT], inputs: { ticker_500ms: { marbles: 'a 1999ms b', values: { a: 'x', b: 'y' } } } });
    s.run('3s');
    // 'x' at 0 passes the rate limit and forwarder2; 'y' at 2000 passes both again.
    expect(s.sinks.tick_printer.frames).toEqual([
      { frame: 0, value: 'x' },
      { frame: 0, value: 'x' },
      { frame: 2000, value: 'y' },
      { frame: 2000, value: 'y' },
    ]);
    expect(s.output.text).toBe('....');
  });
});
