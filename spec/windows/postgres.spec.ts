import { bindNamed } from 'tributary/windows';
import { exactNumber, pgPortableSql, pgResultTypes } from '../../lib/windows/postgres';
import { placeholders } from '../../lib/windows/sql';

describe('bindNamed for PostgreSQL', () => {
  it('numbers $1, $2 … in order and types numbers nothing else types', () => {
    expect(
      bindNamed(
        'select :now as now, :name as name, :r * 2 as r from t where a >= :window_start',
        {
          now: 20,
          name: 'x',
          r: 0.5,
          window_start: 10,
        },
        'query',
        'postgres',
      ),
    ).toEqual({
      sql: 'select $1::bigint as now, $2 as name, $3::double precision * 2 as r from t where a >= $4',
      values: [20, 'x', 0.5, 10],
      names: ['now', 'name', 'r', 'window_start'],
    });
  });

  it('leaves compared parameters to take the type of the other side', () => {
    const sql = 'select 1 from t where a = :a and :b < b and c like :c and d between :d and :e and f in (:f, :g) and h not in (:h)';
    const params = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 };
    expect(bindNamed(sql, params, 'query', 'postgres').sql).toBe(
      'select 1 from t where a = $1 and $2 < b and c like $3 and d between $4 and $5 and f in ($6, $7) and h not in ($8)',
    );
  });

  it('keeps booleans for PostgreSQL and leaves dollar-quoted text and casts alone', () => {
    const bound = bindNamed('select $$ :no $$, $t$:no$t$, x::text, :flag', { flag: true }, 'query', 'postgres');
    expect(bound.sql).toBe('select $$ :no $$, $t$:no$t$, x::text, $1');
    expect(bound.values).toEqual([true]);
  });
});

describe('placeholders', () => {
  it('rewrites ? to $n on PostgreSQL only, outside quoted text and comments', () => {
    expect(placeholders('postgres', `DELETE FROM "t?" WHERE a < ? AND b = '?' -- ?\nAND c IN (?, /* ? */ ?)`)).toBe(
      `DELETE FROM "t?" WHERE a < $1 AND b = '?' -- ?\nAND c IN ($2, /* ? */ $3)`,
    );
    expect(placeholders('mysql', 'DELETE FROM t WHERE a < ?')).toBe('DELETE FROM t WHERE a < ?');
  });
});

describe('pgPortableSql', () => {
  it('replaces select-list aliases in HAVING by their expressions, and rounds doubles over NUMERIC', () => {
    const { sql } = pgPortableSql(
      'select customer_uuid, game_id, round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability from example_bets b ' +
        'join example_selections s on b.uuid = s.bet_uuid where b.create_time >= :window_start group by customer_uuid, game_id having liability > 130',
    );
    const expr = '(round((sum(stake*exchange_rate*(b.odds -1)))::numeric, 2)::double precision)';
    expect(sql).toBe(
      `select customer_uuid, game_id, ${expr} as liability from example_bets b join example_selections s on b.uuid = s.bet_uuid ` +
        `where b.create_time >= :window_start group by customer_uuid, game_id having (${expr}) > 130`,
    );
  });

  it('substitutes inside function calls and implicit aliases, but not qualified names, calls, parameters or subqueries', () => {
    expect(
      pgPortableSql('select count(*) n, sum(x) AS Total from t group by k having abs(n) > 1 and TOTAL > t.n and total() and :n').sql,
    ).toBe('select count(*) n, sum(x) AS Total from t group by k having abs((count(*))) > 1 and (sum(x)) > t.n and total() and :n');
    expect(pgPortableSql('select k, count(*) as n from t group by k having n > (select count(*) as m from u having m > 0)').sql).toBe(
      'select k, count(*) as n from t group by k having (count(*)) > (select count(*) as m from u having (count(*)) > 0)',
    );
  });

  it('leaves an alias that is also a GROUP BY column to mean the column, as MySQL does', () => {
    const sql = 'select count(x) as k, sum(y) as s from t group by k, b.s having k = 2 and s > 1';
    expect(pgPortableSql(sql).sql).toBe('select count(x) as k, sum(y) as s from t group by k, b.s having k = 2 and (sum(y)) > 1');
  });

  it('leaves quoted text, comments and a one-argument round alone', () => {
    const sql = "select round(x) as r, 'having r' as s from t -- round(a, b)\nwhere y = 'round(1, 2)'";
    expect(pgPortableSql(sql).sql).toBe(sql);
  });

  it('names unaliased expressions of the outer select list by their text, as SQLite and MySQL do', () => {
    const rewrite = pgPortableSql("select count(*), max(n)  +  1, n, b.n, 'x', (select count(*) from u) from t");
    expect(rewrite.sql).toBe(
      `select count(*) AS "__tb_expr_1", max(n)  +  1 AS "__tb_expr_2", n, b.n, 'x', (select count(*) from u) AS "__tb_expr_3" from t`,
    );
    expect(rewrite.names).toEqual(
      new Map([
        ['__tb_expr_1', 'count(*)'],
        ['__tb_expr_2', 'max(n)  +  1'],
        ['__tb_expr_3', '(select count(*) from u)'],
      ]),
    );
    expect(pgPortableSql('select * from t').sql).toBe('select * from t');
  });

  it('reads JSON with json_extract through jsonpath', () => {
    expect(pgPortableSql("select json_extract(payload, '$.stake') as stake from raw_events").sql).toBe(
      "select jsonb_path_query_first((payload)::jsonb, ('$.stake')::jsonpath) as stake from raw_events",
    );
  });

  it('reports unquoted aliases with capitals, which PostgreSQL folds', () => {
    expect(pgPortableSql('select count(*) as Total, x as "Quoted", y lower_case, z camelCase from t').names).toEqual(
      new Map([
        ['total', 'Total'],
        ['camelcase', 'camelCase'],
      ]),
    );
  });
});

describe('numbers and booleans from PostgreSQL', () => {
  it('turns decimal text into a number only when no digit is lost', () => {
    expect(exactNumber('138.00')).toBe(138);
    expect(exactNumber('-0.10')).toBe(-0.1);
    expect(exactNumber('9007199254740991')).toBe(9007199254740991);
    expect(exactNumber('9007199254740993')).toBe('9007199254740993');
    expect(exactNumber('0.1000000000000000055511151231257827')).toBe('0.1000000000000000055511151231257827');
    expect(exactNumber('1e21')).toBe(1e21);
    expect(exactNumber('0')).toBe(0);
    expect(exactNumber('NaN')).toBe('NaN');
  });

  it('parses BIGINT and NUMERIC with exactNumber and booleans as 1/0, and leaves other types to pg', () => {
    const other = (v: string) => `pg:${v}`;
    const types = pgResultTypes({ getTypeParser: () => other });
    expect(types.getTypeParser(20)('12')).toBe(12);
    expect(types.getTypeParser(1700)('1.50')).toBe(1.5);
    expect(types.getTypeParser(16)('t')).toBe(1);
    expect(types.getTypeParser(16)('f')).toBe(0);
    expect(types.getTypeParser(25)('x')).toBe('pg:x');
    expect(types.getTypeParser(20, 'binary')('x')).toBe('pg:x');
  });
});
