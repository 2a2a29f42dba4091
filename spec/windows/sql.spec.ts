import { bindNamed, normalizeRow, toUnit } from 'tributary/windows';

describe('bindNamed', () => {
  it('replaces named parameters by ? in order, repeating values as often as they appear', () => {
    expect(
      bindNamed('select * from t where a >= :window_start and b <= :now and c > :window_start', { now: 20, window_start: 10 }),
    ).toEqual({
      sql: 'select * from t where a >= ? and b <= ? and c > ?',
      values: [10, 20, 10],
      names: ['window_start', 'now', 'window_start'],
    });
  });

  it("leaves quoted text, identifiers, comments, casts and times like '10:00:00' alone", () => {
    const sql = `select ':no', "a:b", \`c:d\`, x::text, @v := 1 -- :comment\n/* :block */ from t where at > '10:00:00' and k = :k`;
    const bound = bindNamed(sql, { k: 1 });
    expect(bound.names).toEqual(['k']);
    expect(bound.sql).toBe(sql.replace(':k', '?'));
  });

  it('handles escaped quotes inside strings', () => {
    expect(bindNamed("select 'it''s :x', 'a\\':y' , :z", { z: 1 }).names).toEqual(['z']);
  });

  it('names the missing parameter and what is bound', () => {
    expect(() => bindNamed('select :since', { now: 1 }, "node 'w'")).toThrow(
      "node 'w': SQL parameter ':since' has no value (bound here: :now)",
    );
  });

  it('binds booleans as 0/1 and objects as JSON', () => {
    expect(bindNamed(':a :b', { a: true, b: { x: 1 } }).values).toEqual([1, '{"x":1}']);
  });
});

describe('normalizeRow and toUnit', () => {
  it('turns bytes into text and BigInts into numbers', () => {
    expect(normalizeRow({ b: Buffer.from('hi'), n: 3n, s: 'x' })).toEqual({ b: 'hi', n: 3, s: 'x' });
  });

  it('converts milliseconds to whole seconds or keeps milliseconds', () => {
    expect(toUnit(10_999, 's')).toBe(10);
    expect(toUnit(10_999, 'ms')).toBe(10_999);
  });
});
