import type { EntityManager } from 'typeorm';
import type { Aggregate } from './expression';
import { quoteIdent, type Dialect } from './sql';
import type { WindowStore } from './store';
import { chunkSize } from './tables';

/** One aggregate's columns in a pane row: a sum, a count, or an extreme (min or max). */
type Slot = { kind: 'sum' | 'count' | 'min' | 'max'; column: string };

/**
 * The partial aggregates of one group in one pane, built in memory from a batch and upserted
 * in one statement: `values[i]` is the value of slot `i` (sums and counts start at 0, extremes
 * at null).
 */
export interface PanePartial {
  pane: number;
  groupKey: string;
  keys: string;
  n: number;
  values: (number | null)[];
}

/** A group's aggregates over the panes a run read. */
export interface PaneGroup {
  keys: unknown[];
  groupKey: string;
  /** The values of the window's aggregates, in their order (null: no value, as SQL's). */
  aggregates: (number | null)[];
  /** The newest pane read for the group. */
  lastPane: number;
}

const DOUBLE: Record<Dialect, string> = { sqlite: 'REAL', mysql: 'DOUBLE', postgres: 'DOUBLE PRECISION' };

/**
 * The SQL table behind an aggregate window: one row per pane (a slice of time `pane` long) and
 * group, holding partial aggregates — row count, and per aggregate a sum and count, or a min or
 * max. Ingest upserts one row per group and pane touched by a batch; a run reads the panes of
 * the window (at most size/pane per group) and combines them; expiry deletes whole panes.
 *
 * @example
 * ```ts
 * const panes = new PaneTable(store, 'tb_panes_liability', aggregates);
 * await store.exclusive(() => panes.create());
 * ```
 */
export class PaneTable {
  private readonly slots: Slot[] = [];
  /** For each aggregate, the indexes of its slots: [sum, count] for sum and avg, [x] otherwise. */
  private readonly slotsOf: number[][] = [];
  private readonly q: (s: string) => string;

  constructor(
    private readonly store: WindowStore,
    readonly name: string,
    private readonly aggregates: readonly Aggregate[],
  ) {
    this.q = (s) => quoteIdent(store.dialect, s);
    aggregates.forEach((a, i) => {
      const add = (kind: Slot['kind'], suffix: string) => {
        this.slots.push({ kind, column: `a${i}_${suffix}` });
        return this.slots.length - 1;
      };
      if (a.kind === 'sum' || a.kind === 'avg') this.slotsOf.push([add('sum', 's'), add('count', 'c')]);
      else if (a.kind === 'count') this.slotsOf.push([add('count', 'c')]);
      else this.slotsOf.push([add(a.kind, a.kind)]);
    });
  }

  /** How many value slots a partial has. */
  get width(): number {
    return this.slots.length;
  }

  /**
   * A fresh partial for a group in a pane.
   *
   * @example
   * ```ts
   * const p = panes.partial(1700000, '["c1"]', '["c1"]');
   * ```
   */
  partial(pane: number, groupKey: string, keys: string): PanePartial {
    return { pane, groupKey, keys, n: 0, values: this.slots.map((s) => (s.kind === 'sum' || s.kind === 'count' ? 0 : null)) };
  }

  /**
   * Adds one row's aggregate inputs (`inputs[i]`: the value of aggregate `i`'s expression for
   * the row, null when it is null; `count()` gets 1) to a partial.
   *
   * @example
   * ```ts
   * panes.add(partial, [23, 1]);
   * ```
   */
  add(p: PanePartial, inputs: readonly (number | null)[]): void {
    p.n++;
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i];
      if (v === null) continue;
      const slots = this.slotsOf[i];
      const kind = this.aggregates[i].kind;
      if (kind === 'sum' || kind === 'avg') {
        (p.values[slots[0]] as number) += v;
        (p.values[slots[1]] as number) += 1;
      } else if (kind === 'count') (p.values[slots[0]] as number) += 1;
      else {
        const cur = p.values[slots[0]];
        if (cur === null || (kind === 'min' ? v < cur : v > cur)) p.values[slots[0]] = v;
      }
    }
  }

  /** Statements creating the table if it is missing. */
  ddl(): string[] {
    const q = this.q;
    const dialect = this.store.dialect;
    const cols = [
      `${q('pane')} BIGINT NOT NULL`,
      `${q('group_key')} VARCHAR(255) NOT NULL`,
      `${q('keys')} TEXT NOT NULL`,
      `${q('n')} BIGINT NOT NULL`,
      ...this.slots.map((s) =>
        s.kind === 'count'
          ? `${q(s.column)} BIGINT NOT NULL`
          : s.kind === 'sum'
            ? `${q(s.column)} ${DOUBLE[dialect]} NOT NULL`
            : `${q(s.column)} ${DOUBLE[dialect]}`,
      ),
      // Clustered by group, then pane: a run's GROUP BY reads each group's panes in key order
      // (no temporary table or sort); the index on pane serves the expiry.
      `PRIMARY KEY (${q('group_key')}, ${q('pane')})`,
    ];
    const index = q(`${this.name}_pane_idx`.slice(0, 64));
    if (dialect === 'mysql') cols.push(`INDEX ${index} (${q('pane')})`);
    const statements = [`CREATE TABLE IF NOT EXISTS ${q(this.name)} (${cols.join(', ')})`];
    if (dialect !== 'mysql') statements.push(`CREATE INDEX IF NOT EXISTS ${index} ON ${q(this.name)} (${q('pane')})`);
    return statements;
  }

  /**
   * Creates the table if missing and checks an existing one has this window's columns (a
   * window whose measures changed since the table was made names another `paneTable`).
   *
   * @example
   * ```ts
   * await serial.run(() => panes.create());
   * ```
   */
  async create(): Promise<void> {
    for (const s of this.ddl()) await this.store.execute(s);
    const cols = ['pane', 'group_key', 'keys', 'n', ...this.slots.map((s) => s.column)].map(this.q).join(', ');
    try {
      await this.store.execute(`SELECT ${cols} FROM ${this.q(this.name)} WHERE 1 = 0`);
    } catch (e) {
      throw new Error(
        `pane table '${this.name}' exists with other columns (were the measures changed?): drop it or name another paneTable (${(e as Error).message})`,
      );
    }
  }

  /**
   * Upserts partials (each (pane, group) at most once): one multi-row statement per chunk that
   * adds counts and sums to the stored row and keeps the smaller min and the larger max.
   *
   * @example
   * ```ts
   * await store.transaction((m) => panes.upsert(m, [...batch.values()]));
   * ```
   */
  async upsert(manager: EntityManager, partials: readonly PanePartial[]): Promise<void> {
    if (partials.length === 0) return;
    const q = this.q;
    const dialect = this.store.dialect;
    const columns = ['pane', 'group_key', 'keys', 'n', ...this.slots.map((s) => s.column)];
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const incoming = (c: string) => (dialect === 'mysql' ? `VALUES(${q(c)})` : `excluded.${q(c)}`);
    const current = (c: string) => (dialect === 'postgres' ? `t.${q(c)}` : q(c));
    const least = dialect === 'sqlite' ? 'min' : 'least';
    const greatest = dialect === 'sqlite' ? 'max' : 'greatest';
    const sets = [
      `${q('n')} = ${current('n')} + ${incoming('n')}`,
      ...this.slots.map((s) => {
        const c = s.column;
        if (s.kind === 'sum' || s.kind === 'count') return `${q(c)} = ${current(c)} + ${incoming(c)}`;
        const fn = s.kind === 'min' ? least : greatest;
        return `${q(c)} = ${fn}(coalesce(${current(c)}, ${incoming(c)}), coalesce(${incoming(c)}, ${current(c)}))`;
      }),
    ];
    const head = `INSERT INTO ${q(this.name)}${dialect === 'postgres' ? ' AS t' : ''} (${columns.map(q).join(', ')}) VALUES `;
    const tail =
      dialect === 'mysql'
        ? ` ON DUPLICATE KEY UPDATE ${sets.join(', ')}`
        : ` ON CONFLICT (${q('group_key')}, ${q('pane')}) DO UPDATE SET ${sets.join(', ')}`;
    const size = chunkSize(columns.length);
    for (let i = 0; i < partials.length; i += size) {
      const chunk = partials.slice(i, i + size);
      const values: unknown[] = [];
      for (const p of chunk) values.push(p.pane, p.groupKey, p.keys, p.n, ...p.values);
      await this.store.execute(head + chunk.map(() => tuple).join(', ') + tail, values, manager);
    }
  }

  /**
   * Every group's aggregates over the panes from `first` on (a group is in the result when it
   * has a row in one of them), combined: counts and sums added, the smallest min, the largest max.
   *
   * @example
   * ```ts
   * const groups = await panes.read(firstPane);
   * ```
   */
  async read(first: number): Promise<PaneGroup[]> {
    const q = this.q;
    const select = [
      `${q('group_key')}`,
      `MIN(${q('keys')}) AS ${q('keys')}`,
      `MAX(${q('pane')}) AS ${q('last_pane')}`,
      `SUM(${q('n')}) AS ${q('n')}`,
      ...this.slots.map((s) => `${s.kind === 'min' ? 'MIN' : s.kind === 'max' ? 'MAX' : 'SUM'}(${q(s.column)}) AS ${q(s.column)}`),
    ];
    const rows = (await this.store.execute(
      `SELECT ${select.join(', ')} FROM ${q(this.name)} WHERE ${q('pane')} >= ? GROUP BY ${q('group_key')}`,
      [first],
    )) as Record<string, unknown>[];
    return rows.map((r) => {
      const value = (c: string) => (r[c] === null || r[c] === undefined ? null : Number(r[c]));
      const aggregates = this.aggregates.map((a, i) => {
        const slots = this.slotsOf[i];
        if (a.kind === 'count') return value(this.slots[slots[0]].column) ?? 0;
        if (a.kind === 'sum' || a.kind === 'avg') {
          const sum = value(this.slots[slots[0]].column) ?? 0;
          const n = value(this.slots[slots[1]].column) ?? 0;
          if (n === 0) return null;
          return a.kind === 'sum' ? sum : sum / n;
        }
        return value(this.slots[slots[0]].column);
      });
      return { keys: JSON.parse(String(r.keys)) as unknown[], groupKey: String(r.group_key), aggregates, lastPane: Number(r.last_pane) };
    });
  }

  /**
   * Deletes the panes before `first`, whole; resolves with how many pane rows went.
   *
   * @example
   * ```ts
   * await panes.expire(firstPane, manager);
   * ```
   */
  expire(first: number, manager: EntityManager): Promise<number> {
    return this.store.executeCounted(`DELETE FROM ${this.q(this.name)} WHERE ${this.q('pane')} < ?`, [first], manager);
  }

  /**
   * Deletes the panes of some groups up to pane `last` (clear after ack).
   *
   * @example
   * ```ts
   * await panes.clear(['["c1",123456]'], lastPane);
   * ```
   */
  async clear(groupKeys: readonly string[], last: number): Promise<void> {
    if (groupKeys.length === 0) return;
    const q = this.q;
    await this.store.execute(
      `DELETE FROM ${q(this.name)} WHERE ${q('pane')} <= ? AND ${q('group_key')} IN (${groupKeys.map(() => '?').join(', ')})`,
      [last, ...groupKeys],
    );
  }

  /**
   * The newest pane in the table, or undefined when it is empty (a restart's final run).
   *
   * @example
   * ```ts
   * const newest = await panes.newestPane();
   * ```
   */
  async newestPane(): Promise<number | undefined> {
    const rows = (await this.store.execute(`SELECT MAX(${this.q('pane')}) AS ${this.q('newest')} FROM ${this.q(this.name)}`)) as {
      newest: unknown;
    }[];
    const v = rows[0]?.newest;
    return v === null || v === undefined ? undefined : Number(v);
  }
}
