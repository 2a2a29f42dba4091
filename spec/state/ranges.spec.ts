import fc from 'fast-check';
import { RangeSet } from '../../lib/network/ranges';

describe('RangeSet (absorbed source positions)', () => {
  it('extends the last range for positions in order and keeps gaps for late ones', () => {
    const r = new RangeSet();
    expect([1, 2, 3].map((n) => r.add(n))).toEqual([true, true, true]);
    expect(r.add(2)).toBe(false);
    r.add(6);
    r.add(4);
    expect(r.toJSON()).toEqual([
      [1, 4],
      [6, 6],
    ]);
    expect(r.has(5)).toBe(false);
    r.add(5);
    expect(r.toJSON()).toEqual([[1, 6]]);
    expect(r.max).toBe(6);
  });

  it('closes gaps below a floor, and round-trips through JSON', () => {
    const r = RangeSet.from([
      [1, 2],
      [5, 5],
      [9, 12],
    ]);
    r.closeBelow(6);
    expect(r.toJSON()).toEqual([
      [1, 6],
      [9, 12],
    ]);
    expect(RangeSet.from(r.toJSON()).toJSON()).toEqual(r.toJSON());
    expect(RangeSet.from(undefined).size).toBe(0);
  });

  it('holds exactly the numbers added, whatever the order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }), (ns) => {
        const r = new RangeSet();
        const seen = new Set<number>();
        for (const n of ns) {
          expect(r.add(n)).toBe(!seen.has(n));
          seen.add(n);
        }
        for (let n = 0; n <= 201; n++) expect(r.has(n)).toBe(seen.has(n));
        const json = r.toJSON();
        for (let i = 1; i < json.length; i++) expect(json[i][0]).toBeGreaterThan(json[i - 1][1] + 1);
      }),
    );
  });
});
