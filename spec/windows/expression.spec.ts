import { evaluate, parseMeasure, parseRowExpression, RowScope, type Aggregate } from 'tributary/windows';

const row = (src: string, scope: unknown) => evaluate(parseRowExpression(src, "node 'w'"), scope);

describe('aggregate window expressions', () => {
  it('computes the liability of a bet and the product of its selection odds', () => {
    const bet = { stake: 100, exchange_rate: 1.1, odds: 1.5, selections: [{ odds: 2 }, { odds: 1.5 }] };
    expect(row('stake * exchange_rate * (odds - 1)', bet)).toBeCloseTo(55);
    expect(row('product(selections.odds)', bet)).toBe(3);
    expect(row('count(selections)', bet)).toBe(2);
    expect(row('stake * product(selections.odds) - stake', bet)).toBe(200);
    expect(row('selections.1.odds', bet)).toBe(1.5);
  });

  it('follows operator precedence and SQL null rules', () => {
    expect(row('1 + 2 * 3 - 4 / 2', {})).toBe(5);
    expect(row('-(1 + 2) * 2', {})).toBe(-6);
    expect(row('7 % 4', {})).toBe(3);
    expect(row('missing + 1', {})).toBeNull();
    expect(row('1 / 0', {})).toBeNull();
    expect(row('coalesce(missing, 5)', {})).toBe(5);
    expect(row("a > 1 and b = 'x'", { a: 2, b: 'x' })).toBe(true);
    expect(row('a > 1 or missing', { a: 0 })).toBeNull();
    expect(row('not a', { a: 0 })).toBe(true);
    expect(row('if(a <> 1, "no", "yes")', { a: 1 })).toBe('yes');
    expect(row('round(2.345, 2)', {})).toBe(2.35);
    expect(row('round(-2.5)', {})).toBe(-3);
    expect(row('min(3, 1, 2) + max(3, 1, 2)', {})).toBe(4);
  });

  it('reads the item of an each window beside the payload fields', () => {
    const scope = new RowScope({ stake: 10, odds: 1.5 }, 'item', { game_id: 7, odds: 3 });
    expect(row('item.game_id', scope)).toBe(7);
    expect(row('odds', scope)).toBe(1.5);
    expect(row('item.odds', scope)).toBe(3);
  });

  it('collects aggregates, sharing identical calls', () => {
    const aggregates: Aggregate[] = [];
    const a = parseMeasure('round(sum(stake * (odds - 1)), 2)', 'm', aggregates);
    const b = parseMeasure('sum(stake*(odds-1)) / count()', 'm', aggregates);
    expect(aggregates.map((x) => [x.kind, x.text])).toEqual([
      ['sum', 'sum(stake*(odds-1))'],
      ['count', 'count()'],
    ]);
    expect(evaluate(a, {}, [12.345, 3])).toBe(12.35);
    expect(evaluate(b, {}, [12, 3])).toBe(4);
  });

  it('cannot reach code: unknown functions are parse errors and paths see own fields only', () => {
    expect(() => parseRowExpression("constructor.constructor('return process')()", "node 'w'")).toThrow(/node 'w'/);
    expect(() => parseRowExpression('eval(1)', "node 'w'")).toThrow(/unknown function 'eval'/);
    expect(row('stake.constructor', { stake: 1 })).toBeNull();
    expect(row('__proto__', {})).toBeNull();
    expect(() => row('stake * 2', { stake: 'lots' })).toThrow(/'stake' needs a number, got "lots"/);
    expect(() => row('sum(x)', { x: 1 })).toThrow(/sum\(\) of one value needs a list/);
  });
});
