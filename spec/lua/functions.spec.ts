import { VirtualTime, luaScenario } from 'tributary/testing';

const TB = "local tb = require('tributary')\n";

describe('Lua function nodes', () => {
  it('create_map replaces each payload, tables and all', () => {
    const s = luaScenario({
      source:
        TB +
        `tb.create_ticker("bets", "1s")
         tb.create_map("enrich", function(bet) return { customer = bet.customer, liability = bet.stake * (bet.odds - 1) } end)
         tb.create_sink("out", function(p) end)
         tb.link("bets", "enrich") tb.link("enrich", "out")`,
      inputs: {
        bets: { marbles: '-a-b|', values: { a: { customer: 'c1', stake: 10, odds: 3 }, b: { customer: 'c2', stake: 5, odds: 1.5 } } },
      },
    });
    s.run('10ms');
    s.expectFrames('out', '-a-b|', { a: { customer: 'c1', liability: 20 }, b: { customer: 'c2', liability: 2.5 } });
  });

  it('create_where keeps the payloads the predicate accepts and drops the rest', () => {
    const s = luaScenario({
      source:
        TB +
        `tb.create_ticker("n", "1s")
         tb.create_where("even", function(n) return n % 2 == 0 end)
         tb.create_sink("out", function() end)
         tb.link("n", "even") tb.link("even", "out")`,
      inputs: { n: { marbles: 'abcd|', values: { a: 1, b: 2, c: 3, d: 4 } } },
    });
    const report = s.run('10ms');
    s.expectFrames('out', '-b-d|', { b: 2, d: 4 });
    expect(report.stats.even).toMatchObject({ in: 4, out: 2, dropped: 2 });
  });

  it('create_flatmap turns a returned list into one event each (an empty table gives none)', () => {
    const s = luaScenario({
      source:
        TB +
        `tb.create_ticker("lines", "1s")
         tb.create_flatmap("words", function(line)
           local words = {}
           for w in string.gmatch(line, "%S+") do words[#words + 1] = w end
           return words
         end)
         tb.create_sink("out", function() end)
         tb.link("lines", "words") tb.link("words", "out")`,
      inputs: { lines: { marbles: 'a-b-c|', values: { a: 'hello lua world', b: '', c: 'bye' } } },
    });
    s.run('10ms');
    expect(s.sinks.out.frames).toEqual([
      { frame: 0, value: 'hello' },
      { frame: 0, value: 'lua' },
      { frame: 0, value: 'world' },
      { frame: 4, value: 'bye' },
    ]);
  });

  it('create_sink calls the Lua callback per payload', () => {
    const s = luaScenario({
      source:
        TB +
        `total = 0
         tb.create_ticker("n", "1s")
         tb.create_sink("sum", function(n) total = total + n; print("total", total) end)
         tb.link("n", "sum")`,
      inputs: { n: { marbles: 'a-b-c|', values: { a: 1, b: 2, c: 3 } } },
    });
    s.run('10ms');
    expect(s.output.writes).toEqual([
      { frame: 0, value: 'total\t1\n' },
      { frame: 2, value: 'total\t3\n' },
      { frame: 4, value: 'total\t6\n' },
    ]);
  });

  it('a Lua runtime error mid-stream becomes an error event naming the node and line; later events still flow', () => {
    const s = luaScenario({
      name: 'pricing.lua',
      source:
        TB +
        `tb.create_ticker("bets", "1s")
         tb.create_map("price", function(bet)
           return bet.stake * 2
         end)
         tb.create_sink("out", function() end)
         tb.link("bets", "price") tb.link("price", "out")`,
      inputs: { bets: { marbles: 'a-b-c|', values: { a: { stake: 1 }, b: { nostake: true }, c: { stake: 3 } } } },
    });
    const report = s.run('10ms');
    const frames = s.sinks.out.frames;
    expect(frames[0]).toEqual({ frame: 0, value: 2 });
    expect(frames[1].frame).toBe(2);
    expect((frames[1].value as { error: string }).error).toMatch(
      /^pricing\.lua:4: attempt to perform arithmetic on a nil value \(field 'stake'\)$/,
    );
    expect(s.sinks.out.events[1].error?.node).toBe('price');
    expect(frames[2]).toEqual({ frame: 4, value: 6 });
    expect(s.sinks.out.completedAt).toBe(5);
    expect(report.stats.price).toMatchObject({ in: 3, out: 3, errors: 1 });
    expect(report.failure).toBeUndefined();
  });

  it('error() with a table or without a position is reported with the function’s definition line', () => {
    const s = luaScenario({
      name: 'rules.lua',
      source:
        TB +
        `tb.create_ticker("n", "1s")
         tb.create_map("check", function(n) error({ reason = "too big", value = n }) end)
         tb.create_sink("out", function() end)
         tb.link("n", "check") tb.link("check", "out")`,
      inputs: { n: { marbles: 'a|', values: { a: 99 } } },
    });
    s.run('5ms');
    expect(s.sinks.out.frames[0].value).toEqual({ error: 'rules.lua:3: {"reason":"too big","value":99}' });
  });

  it('a Lua error in a sink callback nacks the event, is logged with the line, and the sink keeps consuming', () => {
    const logged: string[] = [];
    const s = luaScenario({
      source:
        TB +
        `seen = {}
         tb.create_ticker("n", "1s")
         tb.create_sink("out", function(n) if n == 2 then error("no twos") end seen[#seen + 1] = n end)
         tb.link("n", "out")`,
      inputs: { n: { marbles: 'abc|', values: { a: 1, b: 2, c: 3 } } },
      logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    const report = s.time.run(s.network, '5ms');
    expect(s.runtime.runString('return seen')).toEqual([1, 3]);
    expect(report.stats.out).toMatchObject({ in: 3, errors: 1 });
    expect(logged.join('\n')).toMatch(/node 'out': script\.lua:4: no twos/);
    s.runtime.close();
  });

  it('nil is undefined: an interceptor returning nil drops the event', () => {
    const s = luaScenario({
      source:
        TB +
        `tb.create_ticker("n", "1s")
         tb.create_interceptor("odd_only", function(e) if e.payload % 2 == 1 then return e.payload * 10 end end)
         tb.create_sink("out", function() end)
         tb.link("n", "odd_only") tb.link("odd_only", "out")`,
      inputs: { n: { marbles: 'abc|', values: { a: 1, b: 2, c: 3 } } },
    });
    s.run('5ms');
    expect(s.sinks.out.frames).toEqual([
      { frame: 0, value: 10 },
      { frame: 2, value: 30 },
    ]);
  });

  it('event-level kinds get the event as a table: payload and metadata', () => {
    const s = luaScenario({
      source:
        TB +
        `seen = {}
         tb.create_ticker("n", "1s")
         tb.create_handler("h", function(e) seen[#seen + 1] = { e.payload, e.meta.time, type(e.meta.id) } end)
         tb.link("n", "h")`,
      inputs: { n: { marbles: '-a|', values: { a: 'x' } } },
    });
    s.time.run(s.network, '5ms');
    expect(s.runtime.runString('return seen')).toEqual([['x', 1, 'string']]);
    s.runtime.close();
  });

  it('an interceptor returning its event table changed in place emits that event, not the table as a payload', () => {
    const s = luaScenario({
      source:
        TB +
        `tb.create_ticker("n", "1s")
         tb.create_interceptor("tag", function(e) e.payload = e.payload * 10; e.meta.key = "k" .. e.payload; return e end)
         tb.create_handler("out", function(e) seen = seen or {}; seen[#seen + 1] = { e.payload, e.meta.key } end)
         tb.link("n", "tag") tb.link("tag", "out")`,
      inputs: { n: { marbles: 'ab|', values: { a: 1, b: 2 } } },
    });
    s.time.run(s.network, '5ms');
    expect(s.runtime.runString('return seen')).toEqual([
      [10, 'k10'],
      [20, 'k20'],
    ]);
    s.runtime.close();
  });

  it('host-provided nodes (nodes:) exist before the script, which links to them', () => {
    const time = new VirtualTime();
    const s = luaScenario({
      time,
      nodes: { streaming_ingest: time.source('-a--b|', { a: { stake: 5 }, b: { stake: 100 } }) },
      source:
        TB +
        'tb.create_where("big", function(bet) return bet.stake >= 100 end)\ntb.create_printer("alerts")\ntb.link("streaming_ingest", "big")\ntb.link("big", "alerts")',
    });
    s.run('10ms');
    expect(s.output.writes).toEqual([{ frame: 4, value: '{"stake":100}\n' }]);
    s.expectFrames('alerts', '----b|', { b: { stake: 100 } });
  });

  it('test inputs must name sources of the script', () => {
    expect(() => luaScenario({ source: TB + 'tb.create_forwarder("f")', inputs: { f: 'a|' } })).toThrow(
      "test input 'f' can only replace a source, but the script creates a pipeline (forwarder)",
    );
    expect(() => luaScenario({ source: TB + 'tb.create_forwarder("f")', inputs: { ghost: 'a|' } })).toThrow(
      /test inputs 'ghost' name no source/,
    );
  });
});
