// The assignment every member computes for itself: the same answer everywhere, balanced, and
// stable enough that a member joining or leaving moves few units.
import { GroupMember, assignUnits, unitsOf } from '../../lib/cluster/group';

const units = (n: number) => Array.from({ length: n }, (_, i) => `bets.p${i}`);

function loads(a: Map<string, string>): number[] {
  const c = new Map<string, number>();
  for (const m of a.values()) c.set(m, (c.get(m) ?? 0) + 1);
  return [...c.values()].sort((x, y) => x - y);
}

describe('assignUnits', () => {
  it('gives the same answer whatever order members and units are listed in', () => {
    const a = assignUnits(units(16), ['m1', 'm2', 'm3']);
    const b = assignUnits([...units(16)].reverse(), ['m3', 'm1', 'm2']);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  it('balances: loads differ by at most one', () => {
    expect(loads(assignUnits(units(16), ['a', 'b']))).toEqual([8, 8]);
    expect(loads(assignUnits(units(16), ['a', 'b', 'c']))).toEqual([5, 5, 6]);
    expect(loads(assignUnits(units(3), ['a', 'b', 'c', 'd', 'e']))).toEqual([1, 1, 1]);
    expect(assignUnits(units(4), []).size).toBe(0);
  });

  it('moves few units when a member joins or leaves', () => {
    const before = assignUnits(units(60), ['a', 'b', 'c']);
    const after = assignUnits(units(60), ['a', 'b', 'c', 'd']);
    let moved = 0;
    for (const [u, m] of after) if (before.get(u) !== m) moved++;
    // 15 must move to the new member; a plain round-robin would move about 45.
    expect(moved).toBeLessThan(30);
    const left = assignUnits(units(60), ['a', 'c']);
    let movedOnLeave = 0;
    for (const [u, m] of left) if (before.get(u) !== m) movedOnLeave++;
    expect(movedOnLeave).toBeLessThan(35);
  });
});

describe('unitsOf', () => {
  it('makes one unit per script, or one per partition', () => {
    const base = { format: 'lua' as const, source: '', deployedAt: 0 };
    const us = unitsOf([
      { ...base, name: 'calc', version: 2 },
      { ...base, name: 'bets', version: 1, partitions: 3 },
    ]);
    expect(us.map((u) => u.id)).toEqual(['calc', 'bets.p0', 'bets.p1', 'bets.p2']);
    expect(us[2].partition).toEqual({ index: 1, count: 3 });
    expect(us[0].partition).toBeUndefined();
  });
});

describe('GroupMember options', () => {
  const catalog = { subscribe: () => () => undefined, close: () => Promise.resolve() };
  const factory = { prepare: () => Promise.reject(new Error('unused')) };

  it('rejects bad options naming them', () => {
    expect(() => new GroupMember({ nats: 'nats://x', group: '', catalog, factory })).toThrow(/option 'group'/);
    expect(() => new GroupMember({ nats: 'nats://x', group: 'g', catalog, factory, leaseTimeout: '100ms' })).toThrow(
      /option 'leaseTimeout' must be at least 300ms, got 100ms/,
    );
    expect(() => new GroupMember({ nats: 'nats://x', group: 'g', catalog, factory, leaseTimeout: 'soon' })).toThrow(/leaseTimeout/);
    expect(() => new GroupMember({ nats: 'nats://x', group: 'g', catalog: {} as never, factory })).toThrow(/option 'catalog'/);
  });

  it('makes a member id NATS keys accept', () => {
    expect(new GroupMember({ nats: 'nats://x', group: 'g', catalog, factory, memberId: 'host.a:1' }).id).toBe('host_a_1');
  });
});
