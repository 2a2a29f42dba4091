import { TributaryError } from '../errors';
import { defineNode } from '../nodes/registry';
import { compileCondition, type AggloCondition } from './condition';
import { requireExec, runJson } from './exec';
import {
  deepCopy,
  located,
  processNode,
  protoOptions,
  readProcessOptions,
  retryOf,
  RETRY_FIELD,
  withFields,
  type AggloMap,
} from './process';
import { TRANSFORMER, type ProtoMessage } from './proto';
import { goRegExp, goReplaceAll } from './regex';

/** Runs an executable on one JSON value (for Map, LeftFold and RightFold). */
export type ExecFn = (path: string, input: unknown) => Promise<unknown>;

type Step = { kind: 'sync'; fn: (v: unknown) => unknown } | { kind: 'exec'; fn: (v: unknown, exec: ExecFn) => Promise<unknown> };

interface Spec {
  source: string;
  target: string;
  condition: AggloCondition;
  step: Step;
}

const isMap = (v: unknown): v is AggloMap => v !== null && typeof v === 'object' && !Array.isArray(v);

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : isMap(v) ? 'a map' : typeof v;
}

function numeric(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`${what} needs numbers, got ${typeName(v)}`);
  return v;
}

/** Applies `fn` to each element of a list, each value of a map, or the value itself. */
function mapEach(v: unknown, fn: (x: unknown) => unknown): unknown {
  if (Array.isArray(v)) return v.map(fn);
  if (isMap(v)) {
    const out: AggloMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = fn(x);
    return out;
  }
  return fn(v);
}

async function mapEachAsync(v: unknown, fn: (x: unknown) => Promise<unknown>): Promise<unknown> {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) out.push(await fn(x));
    return out;
  }
  if (isMap(v)) {
    const out: AggloMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = await fn(x);
    return out;
  }
  return fn(v);
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what} needs a list, got ${typeName(v)}`);
  return v;
}

async function fold(v: unknown, path: string, exec: ExecFn, fromRight: boolean, what: string): Promise<unknown> {
  const items = list(v, what);
  let acc: unknown = null;
  for (let i = 0; i < items.length; i++) {
    const item = items[fromRight ? items.length - 1 - i : i];
    if (!isMap(item)) throw new Error(`${what} folds lists of maps, element ${fromRight ? items.length - 1 - i : i} is ${typeName(item)}`);
    if (Object.prototype.hasOwnProperty.call(item, 'internal:acc')) throw new Error(`${what}: element already has 'internal:acc'`);
    acc = await exec(path, { ...deepCopy(item), 'internal:acc': acc });
  }
  return acc;
}

function compileStep(t: ProtoMessage, path: string): Step {
  const type = t.transformationType as string;
  const args = (key: string): ProtoMessage => {
    const a = t[key] as ProtoMessage | undefined;
    if (!a) throw new TributaryError('BAD_OPTION', `${path}.${key}: is required for ${type}`);
    return a;
  };
  const execPath = (key: string): string => {
    const p = args(key).path as string;
    if (!p) throw new TributaryError('BAD_OPTION', `${path}.${key}.path: is required (the executable)`);
    return p;
  };
  switch (type) {
    case 'TransformCopy':
      return { kind: 'sync', fn: (v) => deepCopy(v) };
    case 'TransformSum':
      return { kind: 'sync', fn: (v) => list(v, 'TransformSum').reduce((s: number, x) => s + numeric(x, 'TransformSum'), 0) };
    case 'TransformCount':
      return { kind: 'sync', fn: (v) => list(v, 'TransformCount').length };
    case 'TransformPopHead':
      return { kind: 'sync', fn: (v) => list(v, 'TransformPopHead')[0] ?? null };
    case 'TransformPopTail': {
      return {
        kind: 'sync',
        fn: (v) => {
          const l = list(v, 'TransformPopTail');
          return l.length ? l[l.length - 1] : null;
        },
      };
    }
    case 'TransformMapAdd': {
      const c = args('mapAddArgs').value as number;
      return { kind: 'sync', fn: (v) => mapEach(v, (x) => numeric(x, 'TransformMapAdd') + c) };
    }
    case 'TransformMapMult': {
      const c = args('mapMultArgs').value as number;
      return { kind: 'sync', fn: (v) => mapEach(v, (x) => numeric(x, 'TransformMapMult') * c) };
    }
    case 'TransformMapRegex': {
      const a = args('mapRegexArgs');
      const re = goRegExp(a.regex as string, `${path}.mapRegexArgs.regex`, 'g');
      const replace = a.replace as string;
      return {
        kind: 'sync',
        fn: (v) =>
          mapEach(v, (x) => {
            if (typeof x !== 'string') throw new Error(`TransformMapRegex needs strings, got ${typeName(x)}`);
            return goReplaceAll(re, x, replace);
          }),
      };
    }
    case 'TransformMap': {
      const p = execPath('mapArgs');
      return { kind: 'exec', fn: (v, exec) => mapEachAsync(v, (x) => exec(p, x)) };
    }
    case 'TransformLeftFold': {
      const p = execPath('leftFoldArgs');
      return { kind: 'exec', fn: (v, exec) => fold(v, p, exec, false, 'TransformLeftFold') };
    }
    case 'TransformRightFold': {
      const p = execPath('rightFoldArgs');
      return { kind: 'exec', fn: (v, exec) => fold(v, p, exec, true, 'TransformRightFold') };
    }
    default:
      throw new TributaryError('BAD_OPTION', `${path}.transformationType: is required (one of TransformCopy, TransformSum, …)`);
  }
}

/** Where a spec reads and writes, for one event; undefined when the spec does not apply. */
type Plan = { whole: true; value: AggloMap } | { whole: false; value: unknown; write: (result: unknown) => void };

/**
 * agglo's transformer, compiled: each spec copies (and transforms) `sourceField` of the input
 * to `targetField` of the output (dot paths, intermediate maps created); with both fields empty
 * it transforms the whole input and merges the resulting map into the output. The output
 * starts as a copy of the input with `forwardInputFields`, else empty. A source that is not
 * there skips its spec; a spec whose condition is false is skipped.
 *
 * @example
 * ```ts
 * const t = compileTransformer({ specs: [{ sourceField: 'a', targetField: 'b.c', transformation: { transformationType: 'TransformCopy' } }] });
 * t.applySync({ a: 1 }); // { b: { c: 1 } }
 * ```
 */
export class CompiledTransformer {
  /** True when a spec runs an executable (Map, LeftFold, RightFold): use {@link applyAsync}. */
  readonly needsExec: boolean;

  constructor(
    private readonly specs: readonly Spec[],
    private readonly forward: boolean,
  ) {
    this.needsExec = specs.some((s) => s.step.kind === 'exec');
  }

  private plan(spec: Spec, input: AggloMap, out: AggloMap): Plan | undefined {
    if (!spec.condition.test(input)) return undefined;
    if (spec.source === '' && spec.target === '') return { whole: true, value: input };
    if (spec.source === '' || spec.target === '') return undefined;
    let cur: unknown = input;
    for (const seg of spec.source.split('.')) {
      if (!isMap(cur) || !Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
      cur = cur[seg];
    }
    const segs = spec.target.split('.');
    const write = (result: unknown) => {
      let node = out;
      for (const seg of segs.slice(0, -1)) {
        if (!Object.prototype.hasOwnProperty.call(node, seg)) node[seg] = {};
        const next = node[seg];
        if (!isMap(next)) throw new Error(`cannot write '${spec.target}': '${seg}' is ${typeName(next)}, not a map`);
        node = next;
      }
      node[segs[segs.length - 1]] = result;
    };
    return { whole: false, value: cur, write };
  }

  private static merge(out: AggloMap, result: unknown): void {
    if (!isMap(result)) throw new Error(`transforming the whole event must give a map, got ${typeName(result)}`);
    for (const [k, v] of Object.entries(result)) out[k] = v;
  }

  /**
   * Applies the transformer (no executables).
   *
   * @example
   * ```ts
   * const out = transformer.applySync(payload);
   * ```
   */
  applySync(input: AggloMap): AggloMap {
    const out = this.forward ? deepCopy(input) : {};
    for (const spec of this.specs) {
      if (spec.step.kind !== 'sync') throw new Error('this transformer runs executables: use applyAsync');
      const p = this.plan(spec, input, out);
      if (!p) continue;
      const result = spec.step.fn(p.value);
      if (p.whole) CompiledTransformer.merge(out, result);
      else p.write(result);
    }
    return out;
  }

  /**
   * Applies the transformer, running executables through `exec`.
   *
   * @example
   * ```ts
   * const out = await transformer.applyAsync(payload, (path, input) => runJson(input, { path, timeoutMs: 5000, scheduler }));
   * ```
   */
  async applyAsync(input: AggloMap, exec: ExecFn): Promise<AggloMap> {
    const out = this.forward ? deepCopy(input) : {};
    for (const spec of this.specs) {
      const p = this.plan(spec, input, out);
      if (!p) continue;
      const result = spec.step.kind === 'sync' ? spec.step.fn(p.value) : await spec.step.fn(p.value, exec);
      if (p.whole) CompiledTransformer.merge(out, result);
      else p.write(result);
    }
    return out;
  }
}

/**
 * Compiles agglo's `Transformer` message (already read, or raw protobuf-JSON read by the
 * caller) into a {@link CompiledTransformer}; bad specs are errors naming `path`.
 *
 * @example
 * ```ts
 * compileTransformer(readMessage(TRANSFORMER, json, 'transformer'), 'transformer');
 * ```
 */
export function compileTransformer(msg: ProtoMessage, path = ''): CompiledTransformer {
  const at = (s: string) => (path ? `${path}.${s}` : s);
  const specs = (msg.specs as ProtoMessage[]).map((s, i): Spec => {
    const t = s.transformation as ProtoMessage | undefined;
    if (!t) throw new TributaryError('BAD_OPTION', `${at(`specs[${i}].transformation`)}: is required`);
    return {
      source: s.sourceField as string,
      target: s.targetField as string,
      condition: compileCondition(t.condition, at(`specs[${i}].transformation.condition`)),
      step: compileStep(t, at(`specs[${i}].transformation`)),
    };
  });
  return new CompiledTransformer(specs, msg.forwardInputFields === true);
}

/** The options of {@link transform}: agglo's `Transformer` message, `retryStrategy` and `timeoutMs`. */
export const TRANSFORM_OPTIONS = withFields(TRANSFORMER, {
  retryStrategy: RETRY_FIELD,
  timeoutMs: {
    type: { kind: 'int64' },
    description: 'longest one executable (TransformMap, folds) may run, in ms (Tributary; default 30000; 0: no limit)',
  },
});

/** Default limit for one executable run, in ms. */
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/**
 * Process node applying agglo's transformer: copy, sum, count, map-regex (with `$1`), map-add,
 * map-mult, pop-head, pop-tail, map / left fold / right fold through an executable (the
 * network must allow exec); `forwardInputFields` keeps the input's fields; both fields empty
 * transforms the whole event.
 *
 * @example
 * ```ts
 * net.add('sans_prefix', agglo.transform({ forwardInputFields: true, specs: [{ sourceField: 'someVocab', targetField: 'someVocabSansPrefix',
 *   transformation: { transformationType: 'TransformMapRegex', mapRegexArgs: { regex: 'buzz/(.*)', replace: '$1' } } }] }));
 * ```
 */
export const transform = defineNode({
  name: 'transform',
  role: 'pipeline',
  summary: "agglo's transformer: copies and transforms fields (copy, sum, count, regex, add, mult, pop, map/fold by executable).",
  options: protoOptions(TRANSFORM_OPTIONS, {
    name: 'the process name (for errors)',
    specs: 'list of { sourceField, targetField, transformation: { transformationType, condition, <args> } }',
    forwardInputFields: 'true: the output starts as a copy of the input; false: empty',
  }),
  positional: [],
  example:
    "net.add('sans_prefix', agglo.transform({ forwardInputFields: true, specs: [{ sourceField: 'someVocab', targetField: 'bare', transformation: { transformationType: 'TransformMapRegex', mapRegexArgs: { regex: 'buzz/(.*)', replace: '$1' } } }] }));",
  luaExample:
    'tb.create_transform("total", { forwardInputFields = true, specs = { { sourceField = "items", targetField = "n", transformation = { transformationType = "TransformCount" } } } })',
  build: (options) => {
    const msg = readProcessOptions('transform', TRANSFORM_OPTIONS, options);
    const transformer = located('transform', msg, () => compileTransformer(msg));
    const timeoutMs = (msg.timeoutMs as number) || (options.timeoutMs === 0 ? 0 : DEFAULT_EXEC_TIMEOUT_MS);
    return processNode('transform', retryOf(msg), (ctx) => {
      if (!transformer.needsExec) return (payload) => transformer.applySync(payload);
      requireExec(ctx, 'transform');
      const exec: ExecFn = (path, input) => runJson(input, { path, timeoutMs, scheduler: ctx.scheduler });
      return (payload) => transformer.applyAsync(payload, exec);
    });
  },
});
