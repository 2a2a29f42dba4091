// Level 3: a Lua script's network, with its sources replaced by marble inputs.
import { marbles } from 'rxjs-marbles/jest';
import { luaScenario, VirtualTime } from 'tributary/testing';

// The original Tributary's scripted network (examples/scripted/network.lua).
const script = `
local tb = require('tributary')
tb.create_tester("tick_printer", ".")
tb.create_ticker("ticker_500ms", "500ms")
tb.create_ratelimit("filter_2s", "2s")
tb.create_forwarder("forwarder1")
tb.create_forwarder("forwarder2")
tb.link("ticker_500ms", "forwarder1")
tb.fanout("forwarder1", "filter_2s", "forwarder2")
tb.fanin("tick_printer", "filter_2s", "forwarder2")
`;

describe('the scripted network', () => {
  it(
    'prints every tick, and a second dot for ticks at least 2 s apart',
    marbles((m) => {
      const s = luaScenario({
        source: script,
        time: new VirtualTime(m.scheduler),
        // The ticker is replaced: ticks at 0, 1 s, 2 s and 2.5 s, carrying their time.
        inputs: { ticker_500ms: m.cold('a 999ms b 999ms c 499ms d|', { a: 0, b: 1000, c: 2000, d: 2500 }) },
      });
      s.start();
      // tick_printer gets both branches: (aa) is two events at frame 0; a group spans as many
      // frames as it has characters, hence 996ms to reach 1000.
      m.expect(s.sinks.tick_printer.payloads).toBeObservable('(aa) 996ms b 999ms (cc) 496ms d|', { a: 0, b: 1000, c: 2000, d: 2500 });
      m.flush();
      expect(s.output.text).toBe('.'.repeat(6));
      expect(s.network.report().stats.filter_2s).toMatchObject({ in: 4, out: 2, dropped: 2 });
    }),
  );
});

describe('the scripted network with its real ticker, without rxjs-marbles', () => {
  it('prints 25 dots in 10 virtual seconds', () => {
    const s = luaScenario({ source: script });
    const report = s.run('10s');
    expect(s.output.text).toBe('.'.repeat(25));
    expect(report.stats.filter_2s).toMatchObject({ in: 20, out: 5, dropped: 15 });
    // the first frames: both branches at 500 ms, then only forwarder2 until 2.5 s
    expect(s.sinks.tick_printer.frames.slice(0, 7).map((f) => f.frame)).toEqual([500, 500, 1000, 1500, 2000, 2500, 2500]);
  });
});
