import { createHash } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { createDelivery } from '../delivery';
import { TributaryError, errorMessage } from '../errors';
import type { Event } from '../event';
import { opt, type InputOf, type OutputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import type { NodeContext } from '../nodes/types';
import { periodic } from '../operators/periodic';
import { RingQueue } from '../operators/queue';
import { isPlainObject } from '../util/values';
import { storeOf, timeUnitOption, WINDOW_SERVICE, windowOperator, type WindowOutput } from './common';
import { evaluate, hasAggregate, parseMeasure, parseRowExpression, RowScope, type Aggregate, type Expr } from './expression';
import { PaneTable, type PaneGroup, type PanePartial } from './panes';
import { toUnit } from './sql';
import type { SerialQueue, WindowStore } from './store';
import { parsedPayload } from './tables';

const aggregateWindowOptions = {
  groupBy: opt
    .any<string[] | Record<string, string>>(
      "group keys: a list of payload paths (output named by the path's last part, 'item.game_id' → game_id) or { name: expression }",
    )
    .withDefault([]),
  measures: opt
    .object<Record<string, string>>(
      "output fields: { name: expression with sum(), count(), avg(), min(), max() of row expressions }, e.g. { liability: 'round(sum(stake * (odds - 1)), 2)' }",
    )
    .require(),
  having: opt.string('keep only output rows for which this is true (output fields by name, aggregates allowed)'),
  each: opt.string("aggregate one row per item of this list in the payload (a bet's selections); the item is `as`"),
  as: opt.string('name of the current item of `each` in expressions').withDefault('item'),
  duration: opt.duration('how far back the window reaches', { min: 1 }).require(),
  every: opt.duration('how often the window emits (the slide); default duration (tumbling)', { min: 1 }),
  timeField: opt.string("payload path of each row's time (in timeUnit); default the event time"),
  timeUnit: timeUnitOption.describe('unit of timeField: Unix seconds or milliseconds'),
  maxBatch: opt.integer('most events committed in one transaction', { min: 1 }).withDefault(1000),
  paneTable: opt.string('table holding the partial aggregates; default tb_panes_<node name>'),
  clearColumns: opt.array<string>('on ack of an output event, clear its groups (those equal on these group keys) up to the run'),
};

/**
 * Options of {@link aggregateWindow}: `groupBy`, `measures`, `having`, `each`/`as`,
 * `duration`, `every`, `timeField`, `timeUnit`, `maxBatch`, `paneTable`, `clearColumns`.
 */
export type AggregateWindowOptions = InputOf<typeof aggregateWindowOptions>;

type Settings = OutputOf<typeof aggregateWindowOptions>;

/** The compiled definition of an aggregate window. */
interface Plan {
  keys: { name: string; expr: Expr }[];
  aggregates: Aggregate[];
  measures: { name: string; expr: Expr }[];
  having?: Expr;
  time?: string[];
  /** Pane length in ms: the gcd of duration and every, so a window is whole panes. */
  pane: number;
  every: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Parses the options once, at build: a bad expression is an error naming the node and option. */
function plan(o: Settings, where: string): Plan {
  const keys: Plan['keys'] = [];
  if (Array.isArray(o.groupBy)) {
    for (const k of o.groupBy) {
      if (typeof k !== 'string') throw new TributaryError('BAD_OPTION', `${where}: option 'groupBy' lists paths, got ${JSON.stringify(k)}`);
      const expr = parseRowExpression(k, `${where} groupBy`);
      if (expr.k !== 'path')
        throw new TributaryError('BAD_OPTION', `${where}: groupBy '${k}' is not a path: name it ({ name = expression })`);
      keys.push({ name: expr.parts[expr.parts.length - 1], expr });
    }
  } else if (isPlainObject(o.groupBy)) {
    for (const [name, src] of Object.entries(o.groupBy))
      keys.push({ name, expr: parseRowExpression(String(src), `${where} groupBy '${name}'`) });
  } else throw new TributaryError('BAD_OPTION', `${where}: option 'groupBy' must be a list of paths or { name: expression }`);
  const aggregates: Aggregate[] = [];
  const measures = Object.entries(o.measures).map(([name, src]) => {
    const expr = parseMeasure(String(src), `${where} measure '${name}'`, aggregates);
    if (!hasAggregate(expr))
      throw new TributaryError('BAD_OPTION', `${where}: measure '${name}' has no aggregate (sum, count, avg, min, max): '${String(src)}'`);
    return { name, expr };
  });
  if (measures.length === 0) throw new TributaryError('BAD_OPTION', `${where}: option 'measures' names no measure`);
  const names = [...keys.map((k) => k.name), ...measures.map((m) => m.name)];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new TributaryError('BAD_OPTION', `${where}: output field '${dup}' is both a group key and a measure, or named twice`);
  const having = o.having === undefined ? undefined : parseMeasure(o.having, `${where} having`, aggregates);
  for (const c of o.clearColumns ?? []) {
    if (!keys.some((k) => k.name === c))
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: clear column '${c}' is not a group key (keys: ${keys.map((k) => k.name).join(', ') || 'none'})`,
      );
  }
  const every = o.every ?? o.duration;
  return { keys, aggregates, measures, having, time: o.timeField?.split('.'), pane: gcd(o.duration, every), every };
}

/** What an aggregate window counts for the metrics. */
interface Counts {
  rows: number;
  late: number;
  expired: number;
  ticks: number;
  skipped: number;
  lastTick: number;
}

/**
 * Pipeline aggregating a sliding (or tumbling) window in O(panes), not O(rows): each row's
 * group keys and measure inputs are computed at insert time, and partial aggregates — count,
 * sum, min, max — are kept per group per *pane* (a slice of time: `every`, or the gcd of
 * `duration` and `every`) in a table of the window database. Ingest upserts one row per group
 * and pane a batch touches; each run, every `every` on the network's scheduler (aligned to
 * multiples of `every`), reads at most duration/pane panes per group, combines them, evaluates
 * the measures and `having`, and emits one event per group ordered by the keys; panes older
 * than the window are deleted whole. Inputs are acked once their pane row is committed.
 *
 * Expressions (see lib/windows/expression.ts) are parsed once, evaluated without `eval`: paths
 * (`stake`, `item.game_id`), arithmetic, comparisons, `and`/`or`, `round`, `coalesce`, `if`,
 * and list functions (`product(selections.odds)`). With `each`, a payload is one row per item
 * of that list, the item named `item` (or `as`) beside the payload's own fields.
 *
 * @example
 * ```ts
 * // The advanced example's liability per customer and game over 10 s, every second.
 * net.add('customer_liability', windows.aggregateWindow({
 *   each: 'selections',
 *   groupBy: ['customer_uuid', 'item.game_id'],
 *   measures: { liability: 'round(sum(stake * exchange_rate * (odds - 1)), 2)' },
 *   having: 'liability > 130',
 *   duration: '10s', every: '1s', timeField: 'create_time',
 * }));
 * ```
 */
export const aggregateWindow = defineNode({
  name: 'aggregate_window',
  role: 'pipeline',
  summary: 'Window of partial aggregates per group and pane in SQL: ingest upserts one pane row per group, a run reads O(panes).',
  options: aggregateWindowOptions,
  services: [WINDOW_SERVICE],
  positional: [],
  example:
    "net.add('liability', windows.aggregateWindow({ groupBy: ['customer_uuid'], measures: { total: 'sum(stake)' }, duration: '10s', every: '1s' }));",
  luaExample:
    'tb.create_aggregate_window("liability", { group_by = { "customer_uuid" }, measures = { total = "sum(stake)" }, duration = "10s", every = "1s" })',
  build: (o) => {
    const where0 = 'aggregate_window';
    plan(o, where0); // options checked when the node is declared, too
    return {
      role: 'pipeline',
      kind: 'aggregate_window',
      create: (ctx) => {
        const where = `node '${ctx.name}'`;
        const p = plan(o, where);
        const store = storeOf(ctx);
        const tableName = o.paneTable ?? `tb_panes_${ctx.name.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60);
        const panes = new PaneTable(store, tableName, p.aggregates);
        const serial = store.serialQueue();
        const ready = serial.run(() => panes.create());
        ready.catch((err) => ctx.logger.error(`${where}: ${errorMessage(err)}`));
        return windowOperator((out) => new AggregateBody(ctx, store, serial, panes, p, o, ready, out).body());
      },
    };
  },
});

/** A row's contribution: its pane and group, and the inputs of every aggregate. */
interface Contribution {
  pane: number;
  keys: string;
  inputs: (number | null)[];
}

/** The running state of one aggregate window node. */
class AggregateBody {
  private readonly queue = new RingQueue<{ event: Event; done: (error?: unknown) => void }>();
  private scheduled = false;
  private running = false;
  /** Rows committed that no run has read yet: what the final run at input end is for. */
  private fresh = false;
  /** Panes below this are gone: a row for one is late and dropped. */
  private firstKept = -Infinity;
  /** The oldest pane written since the last expiry (undefined: unknown, e.g. after a restart). */
  private oldest: number | undefined = undefined;
  /** The newest row time seen, in ms (for the final run's clock). */
  private newest = -Infinity;
  private readonly seen: Counts = { rows: 0, late: 0, expired: 0, ticks: 0, skipped: 0, lastTick: 0 };
  private timer?: Subscription;
  /** Panes in one window: how many expired panes wait for one delete. */
  private readonly panesPerWindow: number;

  constructor(
    private readonly ctx: NodeContext,
    private readonly store: WindowStore,
    private readonly serial: SerialQueue,
    private readonly panes: PaneTable,
    private readonly p: Plan,
    private readonly o: Settings,
    private readonly ready: Promise<void>,
    private readonly out: WindowOutput,
  ) {
    this.panesPerWindow = Math.max(1, Math.round(o.duration / p.pane));
    const seen = this.seen;
    ctx.probe.gauge('rows_inserted', 'rows this window aggregated', () => seen.rows);
    ctx.probe.gauge('rows_late', 'rows dropped because their pane had already expired', () => seen.late);
    ctx.probe.gauge('panes_expired', 'pane rows deleted as older than the window', () => seen.expired);
    ctx.probe.gauge('ticks', 'runs of this window', () => seen.ticks);
    ctx.probe.gauge('ticks_skipped', 'ticks skipped because the previous run was still going', () => seen.skipped);
    ctx.probe.gauge('tick_seconds', 'how long the last run took (read, emit, expiry)', () => seen.lastTick);
  }

  body() {
    // Runs at multiples of `every`, so a run covers whole panes.
    const now = this.ctx.scheduler.now();
    const offset = ((now % this.p.every) + this.p.every) % this.p.every;
    const startTimer = () => {
      this.timer = periodic(this.ctx.scheduler, this.p.every, () => this.tick());
    };
    if (offset === 0) startTimer();
    else
      this.timer = this.ctx.scheduler.schedule(() => {
        this.tick();
        startTimer();
      }, this.p.every - offset);
    return {
      next: (e: Event) => this.next(e),
      complete: () => this.timer?.unsubscribe(),
      finish: () => {
        if (!this.fresh) return;
        this.out.begin();
        const started = performance.now();
        void this.run(true).finally(() => this.done(started));
      },
      teardown: () => this.timer?.unsubscribe(),
    };
  }

  private next(e: Event): void {
    if (e.error) return this.out.emit(e);
    this.out.begin();
    this.queue.push({
      event: e,
      done: (err) => {
        if (err === undefined) this.ctx.ack(e);
        else this.out.emit(this.ctx.fail(e, err));
        this.out.end();
      },
    });
    if (!this.scheduled) {
      this.scheduled = true;
      void this.serial.run(() => this.flush());
    }
  }

  /** The rows of one event: its pane, group and aggregate inputs, or an error naming what is wrong. */
  private contributions(e: Event): Contribution[] {
    const payload = parsedPayload(e.payload);
    let ms = e.meta.time;
    if (this.p.time) {
      const t = evaluate({ k: 'path', parts: this.p.time, text: this.o.timeField! }, payload);
      if (typeof t !== 'number' || !Number.isFinite(t))
        throw new Error(`time field '${this.o.timeField}' must be a number, got ${JSON.stringify(t)}`);
      ms = this.o.timeUnit === 's' ? t * 1000 : t;
    }
    const pane = Math.floor(ms / this.p.pane);
    if (ms > this.newest) this.newest = ms;
    let scopes: unknown[];
    if (this.o.each !== undefined) {
      const list = evaluate({ k: 'path', parts: this.o.each.split('.'), text: this.o.each }, payload);
      if (list === null) scopes = [];
      else if (!Array.isArray(list)) throw new Error(`'${this.o.each}' must be a list, got ${JSON.stringify(list)}`);
      else scopes = list.map((item) => new RowScope(payload, this.o.as, item));
    } else scopes = [payload];
    return scopes.map((scope) => {
      const keys = JSON.stringify(this.p.keys.map((k) => evaluate(k.expr, scope) ?? null));
      const inputs = this.p.aggregates.map((a) => {
        if (!a.arg) return 1; // count() / count(*)
        const v = evaluate(a.arg, scope);
        if (v === null || v === undefined) return null;
        if (a.kind === 'count') return 1;
        const n =
          typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        if (!Number.isFinite(n)) throw new Error(`${a.text} needs a number, got ${JSON.stringify(v)}`);
        return n;
      });
      return { pane, keys, inputs };
    });
  }

  /** Group commit: the queued events' rows, summed per pane and group in memory, upserted in one transaction. */
  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch: { event: Event; done: (error?: unknown) => void }[] = [];
    while (this.queue.length > 0 && batch.length < this.o.maxBatch) batch.push(this.queue.shift()!);
    if (this.queue.length > 0) {
      this.scheduled = true;
      void this.serial.run(() => this.flush());
    }
    const results: unknown[] = new Array(batch.length);
    const partials = new Map<string, PanePartial>();
    let rows = 0;
    let oldest = Infinity;
    for (let i = 0; i < batch.length; i++) {
      let rowsOf: Contribution[];
      try {
        rowsOf = this.contributions(batch[i].event);
      } catch (err) {
        results[i] = new Error(`${errorMessage(err)}`);
        continue;
      }
      for (const c of rowsOf) {
        if (c.pane < this.firstKept) {
          this.seen.late++;
          continue;
        }
        const id = `${c.pane}|${c.keys}`;
        let part = partials.get(id);
        if (!part) {
          part = this.panes.partial(c.pane, groupKey(c.keys), c.keys);
          partials.set(id, part);
        }
        this.panes.add(part, c.inputs);
        if (c.pane < oldest) oldest = c.pane;
        rows++;
      }
    }
    try {
      await this.ready;
      if (partials.size > 0) await this.store.transaction((m) => this.panes.upsert(m, [...partials.values()]));
      if (partials.size > 0) {
        this.fresh = true;
        this.seen.rows += rows;
        if (this.oldest !== undefined && oldest < this.oldest) this.oldest = oldest;
      }
    } catch (err) {
      // The whole batch is one transaction: none of its rows counted.
      for (let i = 0; i < batch.length; i++) results[i] ??= err;
    }
    for (let i = 0; i < batch.length; i++) batch[i].done(results[i]);
  }

  private tick(): void {
    // A run still going (slow database) skips this tick instead of piling up.
    if (this.running) {
      this.seen.skipped++;
      return;
    }
    this.running = true;
    this.out.begin();
    const started = performance.now();
    void this.run(false).finally(() => {
      this.running = false;
      this.done(started);
    });
  }

  private done(started: number): void {
    this.seen.ticks++;
    this.seen.lastTick = (performance.now() - started) / 1000;
    this.out.end();
  }

  /** One run: read the window's panes, emit a row per group passing `having`, drop expired panes. */
  private async run(final: boolean): Promise<void> {
    const where = `node '${this.ctx.name}'`;
    let now = this.ctx.scheduler.now();
    try {
      await this.serial.run(async () => {
        this.fresh = false;
        await this.ready;
        if (final) {
          const newestPane = await this.panes.newestPane();
          const newest = Math.max(this.newest, newestPane === undefined ? -Infinity : newestPane * this.p.pane);
          now = Math.max(now, newest);
        }
        // The pane holding the window's start is the first one read (whole panes when runs are aligned).
        const first = Math.floor((now - this.o.duration) / this.p.pane);
        let failed: { err: unknown } | undefined;
        try {
          const groups = await this.panes.read(first);
          this.emitRows(groups);
        } catch (err) {
          failed = { err };
        }
        // Expired panes go whether or not the read worked, whole and a window's worth at a time:
        // a run that deletes pays a commit (an fsync), so most runs only read (the read skips
        // expired panes), and the table holds at most two windows of panes.
        if (this.oldest === undefined || first - this.oldest >= this.panesPerWindow) {
          const gone = await this.store.transaction((m) => this.panes.expire(first, m));
          this.seen.expired += gone;
          // Panes from `first` on may remain; the next run deletes again only once `first` passes them.
          this.oldest = first;
        }
        if (first > this.firstKept) this.firstKept = first;
        if (failed) throw failed.err;
      });
    } catch (err) {
      this.ctx.logger.error(`${where}: window run failed: ${errorMessage(err)}`);
      this.out.emit(this.ctx.fail(this.ctx.event({ now: toUnit(now, this.o.timeUnit) }), err));
    }
  }

  private emitRows(groups: PaneGroup[]): void {
    const rows: { row: Record<string, unknown>; group: PaneGroup }[] = [];
    for (const g of groups) {
      const row: Record<string, unknown> = {};
      this.p.keys.forEach((k, i) => (row[k.name] = g.keys[i] ?? null));
      for (const m of this.p.measures) row[m.name] = evaluate(m.expr, row, g.aggregates) ?? null;
      if (this.p.having && evaluate(this.p.having, row, g.aggregates) !== true) continue;
      rows.push({ row, group: g });
    }
    rows.sort((a, b) => compareKeys(a.group.keys, b.group.keys));
    for (const { row, group } of rows) {
      const delivery = this.clearDelivery(group, groups);
      this.out.emit(this.ctx.event(row, delivery ? { delivery } : undefined));
    }
  }

  /** Clear after ack: acking an output deletes the panes (up to the run) of the groups equal to it on `clearColumns`. */
  private clearDelivery(group: PaneGroup, groups: PaneGroup[]) {
    const cols = this.o.clearColumns;
    if (!cols) return undefined;
    const idx = cols.map((c) => this.p.keys.findIndex((k) => k.name === c));
    const matching = groups.filter((g) => idx.every((i) => JSON.stringify(g.keys[i]) === JSON.stringify(group.keys[i])));
    const last = Math.max(...matching.map((g) => g.lastPane));
    const where = `node '${this.ctx.name}'`;
    return createDelivery((s) => {
      if (!s.acked) return;
      void this.serial
        .run(() =>
          this.panes.clear(
            matching.map((g) => g.groupKey),
            last,
          ),
        )
        .catch((err) => this.ctx.logger.error(`${where}: clear after ack failed: ${errorMessage(err)}`));
    });
  }
}

/** The key of a group in the pane table: its JSON text, or a hash of it when longer than the column. */
function groupKey(keys: string): string {
  return keys.length <= 255 ? keys : `sha256:${createHash('sha256').update(keys).digest('base64')}`;
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const s = String(x);
    const t = String(y);
    if (s !== t) return s < t ? -1 : 1;
  }
  return 0;
}
