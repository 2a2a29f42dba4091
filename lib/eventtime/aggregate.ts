import { TributaryError } from '../errors';
import { pathGetter } from './fields';

/**
 * How a window folds its events: `add` returns the new accumulator (it may update it in
 * place), `merge` joins two (session windows that grow together), `result` is what the output
 * event carries. `count` is the window's event count, kept by the window itself.
 */
export interface Aggregator {
  readonly name: string;
  init(): unknown;
  add(acc: unknown, payload: unknown): unknown;
  /** Throws, as `add` would, for a payload whose value cannot be folded (checked before a multi-window add). */
  check?(payload: unknown): void;
  /** Throws, as `add` would, when `acc` can take no more (checked on every window before a multi-window add). */
  room?(acc: unknown): void;
  merge?(a: unknown, b: unknown): unknown;
  result(acc: unknown, count: number): unknown;
}

/** The resolved aggregation options. */
export interface AggregateSettings {
  aggregate?: 'count' | 'sum' | 'avg' | 'min' | 'max' | 'collect' | 'reduce';
  field?: string;
  reduce?: (acc: any, payload: any) => unknown;
  initial?: unknown;
  merge?: (a: any, b: any) => unknown;
  maxItems: number;
}

/**
 * Builds the aggregator the options ask for. Bad combinations (a `field` for count, `reduce`
 * with another aggregate) are errors naming `where` and the option; a value that is not a
 * number for sum/avg/min/max, or a collect window that is full, throws per event (the node
 * turns it into an error event).
 *
 * @example
 * ```ts
 * const agg = aggregator({ aggregate: 'sum', field: 'stake', maxItems: 10 }, "node 'w'");
 * agg.result(agg.add(agg.add(agg.init(), { stake: 2 }), { stake: 3 }), 2); // 5
 * ```
 */
export function aggregator(o: AggregateSettings, where: string): Aggregator {
  const kind = o.aggregate ?? (o.reduce ? 'reduce' : 'count');
  if (o.reduce && kind !== 'reduce')
    throw new TributaryError('BAD_OPTION', `${where}: option 'reduce' goes with aggregate 'reduce', not '${kind}'`);
  if (kind === 'reduce' && !o.reduce)
    throw new TributaryError('BAD_OPTION', `${where}: aggregate 'reduce' needs option 'reduce' ((acc, payload) => acc)`);
  if (kind === 'count' && o.field !== undefined)
    throw new TributaryError('BAD_OPTION', `${where}: option 'field' is for sum, avg, min, max and collect, not count`);
  const get = o.field === undefined ? (p: unknown) => p : pathGetter(o.field);
  const what = o.field === undefined ? 'the payload' : `payload field '${o.field}'`;
  const num = (p: unknown): number => {
    const v = get(p);
    if (typeof v !== 'number' || Number.isNaN(v))
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: option 'field': ${what} must be a number for ${kind}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
      );
    return v;
  };
  switch (kind) {
    case 'count':
      return { name: kind, init: () => null, add: () => null, merge: () => null, result: (_a, n) => n };
    case 'sum':
      return {
        name: kind,
        init: () => 0,
        add: (a, p) => (a as number) + num(p),
        check: num,
        merge: (a, b) => (a as number) + (b as number),
        result: (a) => a,
      };
    case 'avg':
      return {
        name: kind,
        init: () => 0,
        add: (a, p) => (a as number) + num(p),
        check: num,
        merge: (a, b) => (a as number) + (b as number),
        result: (a, n) => (n === 0 ? null : (a as number) / n),
      };
    case 'min':
      return {
        name: kind,
        init: () => Infinity,
        add: (a, p) => Math.min(a as number, num(p)),
        check: num,
        merge: (a, b) => Math.min(a as number, b as number),
        result: (a) => (a === Infinity ? null : a),
      };
    case 'max':
      return {
        name: kind,
        init: () => -Infinity,
        add: (a, p) => Math.max(a as number, num(p)),
        check: num,
        merge: (a, b) => Math.max(a as number, b as number),
        result: (a) => (a === -Infinity ? null : a),
      };
    case 'collect': {
      const max = o.maxItems;
      const full = () =>
        new TributaryError(
          'BAD_OPTION',
          `${where}: a collect window holds at most maxItems=${max} values; this event was not added (raise maxItems or shorten the window)`,
        );
      return {
        name: kind,
        init: () => [],
        add: (a, p) => {
          const list = a as unknown[];
          if (list.length >= max) throw full();
          list.push(get(p));
          return list;
        },
        room: (a) => {
          if ((a as unknown[]).length >= max) throw full();
        },
        merge: (a, b) => {
          const joined = (a as unknown[]).concat(b as unknown[]);
          if (joined.length > max) throw full();
          return joined;
        },
        result: (a) => (a as unknown[]).slice(),
      };
    }
    case 'reduce': {
      const reduce = o.reduce!;
      const initial = o.initial ?? null;
      const merge = o.merge;
      return {
        name: kind,
        init: () => (initial !== null && typeof initial === 'object' ? structuredClone(initial) : initial),
        add: (a, p) => reduce(a, p),
        merge: merge ? (a, b) => merge(a, b) : undefined,
        result: (a) => a,
      };
    }
  }
}
