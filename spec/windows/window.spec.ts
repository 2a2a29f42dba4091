import { tap } from 'rxjs';
import { entities } from '../../examples/advanced/entities';
import { nodes } from 'tributary';
import { windows } from 'tributary/windows';
import { bet, count, drivers, scheduledSource, virtualNetwork } from './helpers';

describe.each(drivers)('window (create_window) on $name', (driver) => {
  it('inserts a burst of events in one transaction and passes each on after its commit', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    let transactions = 0;
    const tx = store.transaction.bind(store);
    store.transaction = (fn) => {
      transactions++;
      return tx(fn);
    };
    const items = [
      ...Array.from({ length: 100 }, (_, i) => ({ at: 10, payload: bet(`a${i}`, { time: 1 }) })),
      ...Array.from({ length: 5 }, (_, i) => ({ at: 20, payload: bet(`b${i}`, { time: 2 }) })),
    ];
    const src = scheduledSource(items);
    const out = t.sink<{ uuid: string }>();
    const seenInDb: number[] = [];
    net.add('in', src);
    net.add('bets_window', windows.window());
    net.add('probe', {
      role: 'pipeline',
      kind: 'probe',
      create: () => (s) =>
        s.pipe(tap(() => void store.query('select count(*) as n from example_bets').then((r) => seenInDb.push(Number(r[0].n))))),
    });
    net.add('out', out.node);
    net.link('in', 'bets_window');
    net.link('bets_window', 'probe');
    net.link('probe', 'out');
    const report = await clock.run(net, '1s');

    expect(transactions).toBe(2); // one per frame: 100 events, then 5
    expect(out.frames.map((f) => f.frame)).toEqual([...Array(100).fill(10), ...Array(5).fill(20)]);
    expect(out.frames.map((f) => f.value.uuid)).toEqual(items.map((i) => (i.payload as { uuid: string }).uuid));
    expect(Math.min(...seenInDb)).toBeGreaterThanOrEqual(100); // rows were committed before the events went on
    expect(await count(store, 'example_bets')).toBe(105);
    expect(await count(store, 'example_selections')).toBe(105);
    expect(src.log.acked).toHaveLength(105); // acked by the sink, after the commit
    expect(report.stats.bets_window).toMatchObject({ in: 105, out: 105, errors: 0 });
  });

  it('inserts a bet and its selections from one payload (one-to-many)', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    net.add('in', t.source('-a-|', { a: bet('bet-1', { time: 100, selections: 3, game: 654321 }) }));
    net.add('w', windows.window({ table: 'example_bets' }));
    net.add('out', t.sink().node);
    net.link('in', 'w');
    net.link('w', 'out');
    await clock.run(net, '10ms');
    const rows = await store.query('select b.uuid, s.game_id, s.odds from example_bets b join example_selections s on b.uuid = s.bet_uuid');
    expect(rows).toEqual(Array(3).fill({ uuid: 'bet-1', game_id: 654321, odds: 1.23 }));
  });

  it('turns a bad payload into an error event while the good rows of its batch commit', async () => {
    const { store } = await driver.open({ entities });
    const { net, clock } = virtualNetwork(store);
    const src = scheduledSource([
      { at: 5, payload: { ...bet('g1', { time: 1 }), label: 'g1' } },
      { at: 5, payload: { label: 'no-customer', uuid: 'x1', stake: 1, odds: 1.5, create_time: 1 } },
      { at: 5, payload: { ...bet('x2', { time: 1 }), stake: 'lots', label: 'bad-stake' } },
      { at: 5, payload: { ...bet('g1', { time: 1 }), label: 'duplicate-key' } },
      { at: 5, payload: { ...bet('g2', { time: 1 }), label: 'g2' } },
    ]);
    const sink = { errors: [] as string[], ok: [] as string[] };
    net.add('in', src);
    net.add('w', windows.window());
    net.add('out', {
      role: 'sink',
      kind: 'collect',
      create: (ctx) => (s) =>
        s.pipe(
          tap((e) => {
            const label = (e.payload as { label: string }).label;
            if (e.error) {
              sink.errors.push(`${label}: ${e.error.node}: ${e.error.message}`);
              ctx.nack(e, e.error);
            } else {
              sink.ok.push(label);
              ctx.ack(e);
            }
          }),
        ),
    });
    net.link('in', 'w');
    net.link('w', 'out');
    const report = await clock.run(net, '10ms');
    expect(sink.ok).toEqual(['g1', 'g2']);
    expect(sink.errors).toHaveLength(3);
    expect(sink.errors[0]).toMatch(/^no-customer: w: table 'example_bets': column 'customer_uuid' is missing/);
    expect(sink.errors[1]).toMatch(/^bad-stake: w: table 'example_bets': column 'stake' needs a number, got "lots"/);
    expect(sink.errors[2]).toMatch(/^duplicate-key: w: /);
    expect(src.log.acked.sort()).toEqual(['g1', 'g2']);
    expect(src.log.nacked.sort()).toEqual(['bad-stake', 'duplicate-key', 'no-customer']);
    expect(await store.query('select uuid from example_bets order by uuid')).toEqual([{ uuid: 'g1' }, { uuid: 'g2' }]);
    expect(report.stats.w.errors).toBe(3);
  });

  it('writes a burst of several batches in arrival order, each event passed on only after its row commits, a rejected row failing alone', async () => {
    const { store } = await driver.open({
      tables: [{ name: 'burst', columns: { uuid: { type: 'string', primary: true }, n: 'integer' } }],
    });
    const { net, clock } = virtualNetwork(store);
    // Writes that have committed (statements or transactions), counted before the window hears of them.
    let committedWrites = 0;
    const counted = <T>(p: Promise<T>) => {
      p.then(
        () => committedWrites++,
        () => undefined,
      );
      return p;
    };
    const runStatement = store.runStatement.bind(store);
    store.runStatement = (st) => counted(runStatement(st));
    const transaction = store.transaction.bind(store);
    store.transaction = (fn) => counted(transaction(fn));
    const payloads = Array.from({ length: 250 }, (_, i) => ({ uuid: `u${i}`, n: i, label: `u${i}` }));
    payloads[150] = { uuid: 'u3', n: 150, label: 'duplicate' }; // the database rejects it (second batch)
    payloads[210] = { uuid: 'u210', n: 'x' as unknown as number, label: 'not-a-number' }; // the table rejects it
    const src = scheduledSource(payloads.map((payload) => ({ at: 10, payload })));
    const seen: { label: string; error?: string; writesBefore: number }[] = [];
    net.add('in', src);
    net.add('w', windows.window({ table: 'burst', maxBatch: 100 }));
    net.add('out', {
      role: 'sink',
      kind: 'collect',
      create: (ctx) => (s) =>
        s.pipe(
          tap((e) => {
            seen.push({ label: (e.payload as { label: string }).label, error: e.error?.message, writesBefore: committedWrites });
            if (e.error) ctx.nack(e, e.error);
            else ctx.ack(e);
          }),
        ),
    });
    net.link('in', 'w');
    net.link('w', 'out');
    const report = await clock.run(net, '1s');

    expect(seen.map((x) => x.label)).toEqual(payloads.map((p) => p.label));
    // The i-th event of a burst belongs to batch floor(i / 100): that many writes before it had committed.
    for (let i = 0; i < seen.length; i++) {
      if (!seen[i].error) expect(seen[i].writesBefore).toBeGreaterThanOrEqual(Math.floor(i / 100) + 1);
    }
    expect(seen.filter((x) => x.error).map((x) => x.label)).toEqual(['duplicate', 'not-a-number']);
    expect(seen[210].error).toMatch(/table 'burst': column 'n' needs a number, got "x"/);
    expect(await count(store, 'burst')).toBe(248);
    const ns = (await store.query('select n from burst')).map((r) => Number(r.n)).sort((a, b) => a - b);
    expect(ns).toEqual(payloads.map((p) => p.n).filter((n) => n !== 150 && typeof n === 'number') as number[]);
    expect(src.log.acked).toHaveLength(248);
    expect(src.log.nacked.sort()).toEqual(['duplicate', 'not-a-number']);
    expect(report.stats.w).toMatchObject({ in: 250, out: 250, errors: 2 });
  });

  it('passes error events through and completes at once on no events', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', t.source('---|'));
    net.add('w', windows.window());
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    const report = await clock.run(net, '1s');
    expect(out.frames).toEqual([]);
    expect(out.completedAt).toBe(3);
    expect(report.timedOut).toBe(false);
  });

  it('stores payloads as JSON beside event time and key in a schemaless table', async () => {
    const { store } = await driver.open({ tables: [{ name: 'raw_events', schemaless: true }] });
    const { net, clock } = virtualNetwork(store);
    net.add(
      'in',
      scheduledSource([
        { at: 1500, payload: { customer: 'c1', stake: 5 }, key: 'c1' },
        { at: 2500, payload: [1, 2] },
      ]),
    );
    net.add('w', windows.window({ table: 'raw_events' }));
    net.add('out', windows.filter({ duration: '1s' })); // any consumer will do
    net.add('end', nodes.discarder());
    net.link('in', 'w');
    net.link('w', 'out');
    net.link('out', 'end');
    await clock.run(net, '3s');
    const rows = await store.query(
      "select event_time, event_key, json_extract(payload, '$.stake') as stake, payload from raw_events order by id",
    );
    expect(rows.map((r) => ({ ...r, payload: JSON.parse(String(r.payload)) }))).toEqual([
      { event_time: 1500, event_key: 'c1', stake: 5, payload: { customer: 'c1', stake: 5 } },
      { event_time: 2500, event_key: null, stake: null, payload: [1, 2] },
    ]);
  });

  it('fails to start with an error naming the node and the unknown table', async () => {
    const { store } = await driver.open({ entities });
    const { t, net } = virtualNetwork(store);
    net.add('in', t.source('-|'));
    net.add('bets_window', windows.window({ table: 'nope' }));
    net.add('out', t.sink().node);
    net.link('in', 'bets_window');
    net.link('bets_window', 'out');
    expect(() => net.startSync()).toThrow(/node 'bets_window'.*unknown table 'nope' \(known: example_bets, example_selections/);
  });
});

describe.each(drivers)('window payload decoding on $name', (driver) => {
  it('parses JSON bytes and JSON text payloads (messages from a bus), and rejects bytes that are not JSON', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const json = JSON.stringify(bet('bytes-1', { time: 1 }));
    net.add(
      'in',
      scheduledSource([
        { at: 1, payload: Buffer.from(json) },
        { at: 2, payload: json.replace('bytes-1', 'text-1') },
        { at: 3, payload: Buffer.from('{oops') },
      ]),
    );
    net.add('w', windows.window());
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    await clock.run(net, '10ms');
    expect(await store.query('select uuid from example_bets order by uuid')).toEqual([{ uuid: 'bytes-1' }, { uuid: 'text-1' }]);
    expect(await count(store, 'example_selections')).toBe(2);
    expect(out.frames[2].value).toEqual({ error: expect.stringMatching(/^payload is not JSON/) });
  });
});
