import { TestScheduler } from 'rxjs/testing';
import { Network, nodes, TributaryError } from 'tributary';
import { DeliveryProbe, payloadOperator } from 'tributary/testing';
import { LuaRuntime } from 'tributary/lua';
import { statePlugin } from '../../lib/state/plugin';
import { stateful } from '../../lib/state/stateful';
import { builtinPlugins } from '../../lib/plugins';

const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

const counting = stateful({
  key: 'k',
  ttl: '10ms',
  fn: (n: number | undefined, p: { k: string }) => ({ state: (n ?? 0) + 1, emit: `${p.k}${(n ?? 0) + 1}` }),
});

describe('stateful', () => {
  it('keeps state per key and emits what fn returns', () => {
    const s = scheduler();
    s.run(({ cold, expectObservable }) => {
      const sums = stateful({
        key: 'customer',
        fn: (sum: number | undefined, bet: { customer: string; stake: number }) => ({
          state: (sum ?? 0) + bet.stake,
          emit: { customer: bet.customer, sum: (sum ?? 0) + bet.stake },
        }),
      });
      const op = payloadOperator(sums, { scheduler: s });
      const values = { a: { customer: 'ann', stake: 5 }, b: { customer: 'bob', stake: 1 }, c: { customer: 'ann', stake: 2 } };
      expectObservable(cold('a-b-c|', values).pipe(op)).toBe('a-b-c|', {
        a: { customer: 'ann', sum: 5 },
        b: { customer: 'bob', sum: 1 },
        c: { customer: 'ann', sum: 7 },
      });
    });
  });

  it('emits nothing for no events, and nothing after an early unsubscribe', () => {
    const s = scheduler();
    s.run(({ cold, expectObservable }) => {
      const op = payloadOperator(counting, { scheduler: s });
      expectObservable(cold('|').pipe(op)).toBe('|');
      expectObservable(cold('a-a-a-a', { a: { k: 'x' } }).pipe(op), '^--!').toBe('a-b', { a: 'x1', b: 'x2' });
    });
  });

  it('forgets a key not updated within the TTL (virtual time)', () => {
    const s = scheduler();
    s.run(({ cold, expectObservable }) => {
      const op = payloadOperator(counting, { scheduler: s });
      // x at 0 and 5 (count 2), then at 15: 10 ms after its last update, so it starts again;
      // at 24 (9 ms later) it is still there; y at 12 is untouched by x's expiry.
      const input = cold('a 4ms a 6ms b 2ms a 8ms a|', { a: { k: 'x' }, b: { k: 'y' } });
      expectObservable(input.pipe(op)).toBe('a 4ms b 6ms c 2ms d 8ms e|', { a: 'x1', b: 'x2', c: 'y1', d: 'x1', e: 'x2' });
    });
  });

  it('turns a throw of fn, a missing key and a bad result into error events, and passes error events on', () => {
    const s = scheduler();
    s.run(({ cold, expectObservable }) => {
      const node = stateful({
        key: 'k',
        fn: (_s: unknown, p: { k: string; bad?: string }) => {
          if (p.bad === 'throw') throw new Error('boom');
          if (p.bad === 'number') return 5 as never;
          return { state: 1, emit: p.k };
        },
      });
      const op = payloadOperator(node, { scheduler: s, name: 'sums' });
      const values = { a: { k: 'x', bad: 'throw' }, b: { nokey: 1 }, c: { k: 'y', bad: 'number' }, d: { k: 'z' } };
      expectObservable(cold('abcd|', values).pipe(op)).toBe('abcd|', {
        a: { error: 'boom' },
        b: { error: "no key: payload path 'k' gave undefined" },
        c: { error: 'fn must return { state, emit } (or nothing), got number' },
        d: 'z',
      });
    });
  });

  it('acks an input once its state is kept and its emitted event acked (no state store: at once)', () => {
    const s = scheduler();
    s.run(({ cold, expectObservable }) => {
      const deliveries = new DeliveryProbe(s);
      const node = stateful({
        key: 'k',
        fn: (_s: unknown, p: { k: string; quiet?: boolean }) => ({ state: 1, emit: p.quiet ? undefined : p.k }),
      });
      const op = payloadOperator(node, { scheduler: s, deliveries });
      // The emitted event is not acked by anybody here: its input waits; a quiet one is acked at once.
      cold('a-b|', { a: { k: 'x' }, b: { k: 'y', quiet: true } })
        .pipe(op)
        .subscribe();
      expectObservable(deliveries.acks).toBe('--b', { b: { k: 'y', quiet: true } });
    });
  });

  it('keys by a function or the event key, and rejects a bad key option', () => {
    const s = scheduler();
    s.run(({ cold, expectObservable }) => {
      const byFn = stateful({
        key: (p: { a: number }) => p.a % 2,
        fn: (n: number | undefined) => ({ state: (n ?? 0) + 1, emit: (n ?? 0) + 1 }),
      });
      expectObservable(cold('abc|', { a: { a: 1 }, b: { a: 2 }, c: { a: 3 } }).pipe(payloadOperator(byFn, { scheduler: s }))).toBe('abc|', {
        a: 1,
        b: 1,
        c: 2,
      });
    });
    expect(() => stateful({ key: 5 as never, fn: () => undefined })).toThrow(TributaryError);
    expect(() => stateful({ key: ' ', fn: () => undefined })).toThrow(/option 'key' must not be empty/);
    expect(() => stateful({ key: 'k' } as never)).toThrow(/option 'fn' is required/);
  });

  it('is a plugin kind: net.create and Lua create_stateful build it', async () => {
    const net = new Network({ plugins: builtinPlugins() });
    const seen: unknown[] = [];
    net.add(
      'in',
      nodes.from({
        items: [
          { c: 'a', v: 1 },
          { c: 'b', v: 2 },
          { c: 'a', v: 3 },
        ],
      }),
    );
    const rt = new LuaRuntime(net);
    rt.runString(`
      local tb = require('tributary')
      tb.create_stateful("sums", "c", function(sum, p) local s = (sum or 0) + p.v; return { state = s, emit = { c = p.c, sum = s } } end)
      tb.link("in", "sums")
    `);
    net.add('out', nodes.sink({ fn: (p) => void seen.push(p) }));
    net.link('sums', 'out');
    await net.start();
    await net.done();
    rt.close();
    expect(seen).toEqual([
      { c: 'a', sum: 1 },
      { c: 'b', sum: 2 },
      { c: 'a', sum: 4 },
    ]);
    const direct = new Network({ plugins: [statePlugin] });
    expect(() => direct.create('stateful', 's', { key: 'k', fn: () => undefined, tll: '1s' })).toThrow(
      /unknown option 'tll'.*did you mean 'ttl'/,
    );
  });
});
