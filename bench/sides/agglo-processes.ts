// One side of bench/cases/agglo-processes.case.ts: N events through agglo's annotate (nested
// comparator), transform (regex map, forwardInputFields) and continue (numeric condition).
// `ours`: a network from → annotate → transform → continue → sink built from agglo's option
// messages. `anchor`: the same work hand-written in one RxJS pipe (plain JS predicates, copies
// and String.replace). Args: ours|anchor, N. Prints {"ms","cpuMs","rssMb","kept"}.
import { filter, from, lastValueFrom, map, toArray } from 'rxjs';
import { agglo } from '../../lib/agglo/index';
import { Network, nodes } from '../../lib/index';

const [side = 'ours', nArg = '200000'] = process.argv.slice(2);
const N = Number(nArg);
const payload = (i: number) => ({ order: { kind: i % 3 ? 'standard' : 'express' }, amount: i % 100, sku: `sku-${i}` });

async function ours(): Promise<number> {
  const net = new Network({ logger: { warn: () => undefined, error: () => undefined } });
  net.add('in', nodes.from({ items: Array.from({ length: N }, (_, i) => payload(i)) }));
  net.add(
    'flag',
    agglo.annotate({
      annotations: [
        {
          fieldKey: 'priority',
          value: 'yes',
          condition: {
            expression: { comparator: { lhs: { variable: { name: 'order.kind' } }, rhs: { literal: 'express' }, op: 'Equal' } },
          },
        },
      ],
    }),
  );
  net.add(
    'strip',
    agglo.transform({
      forwardInputFields: true,
      specs: [
        {
          sourceField: 'sku',
          targetField: 'skuCode',
          transformation: { transformationType: 'TransformMapRegex', mapRegexArgs: { regex: 'sku-(.*)', replace: '$1' } },
        },
      ],
    }),
  );
  net.add(
    'gate',
    agglo.continueNode({
      condition: { expression: { comparator: { lhs: { variable: { name: 'amount' } }, rhs: { numeric: 50 }, op: 'GreaterThanOrEqual' } } },
    }),
  );
  let kept = 0;
  net.add('out', nodes.sink({ fn: () => void kept++ }));
  net.link('in', 'flag').link('flag', 'strip').link('strip', 'gate').link('gate', 'out');
  await net.start();
  await net.done();
  return kept;
}

function copy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copy) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copy(x);
    return out as T;
  }
  return v;
}

async function anchor(): Promise<number> {
  const re = /sku-(.*)/g;
  const out = await lastValueFrom(
    from(Array.from({ length: N }, (_, i) => payload(i))).pipe(
      map((p) => {
        const o: Record<string, unknown> = copy(p);
        if (p.order?.kind === 'express') o.priority = 'yes';
        return o;
      }),
      map((p) => {
        const o = copy(p);
        if (typeof p.sku === 'string') o.skuCode = p.sku.replace(re, '$1');
        return o;
      }),
      filter((p) => typeof p.amount === 'number' && p.amount >= 50),
      toArray(),
    ),
  );
  return out.length;
}

async function main(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const kept = side === 'anchor' ? await anchor() : await ours();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  if (kept !== N / 2) throw new Error(`${side} kept ${kept}, expected ${N / 2}`);
  process.stdout.write(
    JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, rssMb: process.resourceUsage().maxRSS / 1024, kept }) + '\n',
  );
}

void main();
