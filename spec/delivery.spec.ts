import { ack, createDelivery, createEvent, forkDelivery, joinDeliveries, nack, type Settlement } from 'tributary';
import { probe } from './nodes/support';

function recorder() {
  const settlements: Settlement[] = [];
  return { settlements, delivery: createDelivery((s) => settlements.push(s)) };
}

describe('createDelivery', () => {
  it('settles once: later acks and nacks are ignored', () => {
    const r = recorder();
    expect(r.delivery.settled).toBe(false);
    r.delivery.ack();
    r.delivery.nack('late');
    r.delivery.ack();
    expect(r.settlements).toEqual([{ acked: true }]);
    expect(r.delivery.settled).toBe(true);
  });

  it('reports a nack with its reason', () => {
    const r = recorder();
    r.delivery.nack('timeout');
    r.delivery.ack();
    expect(r.settlements).toEqual([{ acked: false, reason: 'timeout' }]);
  });

  it('ack() and nack() on events settle their handle and ignore events without one', () => {
    const r = recorder();
    ack(createEvent(1, { delivery: r.delivery }));
    expect(r.settlements).toEqual([{ acked: true }]);
    expect(() => {
      ack(createEvent(1));
      nack(createEvent(1), 'x');
    }).not.toThrow();
  });
});

describe('forkDelivery', () => {
  it('0 children: acks the parent at once', () => {
    const p = probe();
    expect(forkDelivery(p, 0)).toEqual([]);
    expect(p.calls).toEqual(['ack']);
  });

  it('1 child: is the parent itself', () => {
    const p = probe();
    expect(forkDelivery(p, 1)).toEqual([p]);
    expect(p.calls).toEqual([]);
  });

  it('N children: acks the parent once, after the last child acks, whatever the order', () => {
    const p = probe();
    const [a, b, c] = forkDelivery(p, 3);
    c.ack();
    a.ack();
    a.ack();
    expect(p.calls).toEqual([]);
    b.ack();
    expect(p.calls).toEqual(['ack']);
  });

  it('N children: nacks the parent once with the first failure, after all have settled', () => {
    const p = probe();
    const [a, b, c] = forkDelivery(p, 3);
    b.nack('first');
    c.nack('second');
    expect(p.calls).toEqual([]);
    a.ack();
    expect(p.calls).toEqual(['nack']);
    expect(p.reasons).toEqual(['first']);
  });

  it('a child settled twice counts once (the parent does not settle early)', () => {
    const p = probe();
    const [a] = forkDelivery(p, 2);
    a.ack();
    a.ack();
    expect(p.calls).toEqual([]);
  });
});

describe('joinDeliveries', () => {
  it('no parts: no handle; one part: that part', () => {
    const p = probe();
    expect(joinDeliveries([])).toBeUndefined();
    expect(joinDeliveries([p])).toBe(p);
  });

  it('acking the joined handle acks every part exactly once', () => {
    const parts = [probe(), probe(), probe()];
    const joined = joinDeliveries(parts)!;
    joined.ack();
    joined.ack();
    joined.nack('late');
    expect(parts.map((p) => p.calls)).toEqual([['ack'], ['ack'], ['ack']]);
  });

  it('nacking the joined handle nacks every part with the reason', () => {
    const parts = [probe(), probe()];
    joinDeliveries(parts)!.nack('full');
    expect(parts.map((p) => [p.calls, p.reasons])).toEqual([
      [['nack'], ['full']],
      [['nack'], ['full']],
    ]);
  });
});
