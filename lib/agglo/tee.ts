import { randomUUID } from 'node:crypto';
import type { SchedulerLike } from 'rxjs';
import { TributaryError, errorMessage } from '../errors';
import { defineNode } from '../nodes/registry';
import { memoryStore } from '../state/memory';
import type { KeyValueStore } from '../state/types';
import { redact, shownUrl } from '../util/redact';
import { compileCondition } from './condition';
import { requireExec, runJson } from './exec';
import { openObjectStore, type ObjectStore } from './objectstore';
import {
  deepCopy,
  located,
  processNode,
  protoOptions,
  readProcessOptions,
  retryOf,
  RETRY_FIELD,
  STOP,
  withFields,
  type AggloMap,
  type ProcessFn,
} from './process';
import { EXTERNAL, TEE, TRANSFORMER, type FieldDescriptor, type ProtoMessage } from './proto';
import { compileTransformer, DEFAULT_EXEC_TIMEOUT_MS, type CompiledTransformer, type ExecFn } from './transform';
import type { NodeContext } from '../nodes/types';
import { AGGLO_STATE_SERVICE, releasingAtEnd, storeHandle, type StoreHandle } from './stateful';

/** The key of the list of tee records agglo adds to the event. */
export const TEE_OUTPUT_KEY = 'internal:tee:output';

const TEE_EXTRA: Record<string, FieldDescriptor> = {
  retryStrategy: RETRY_FIELD,
  transformer: {
    type: { kind: 'message', message: () => TRANSFORMER },
    description: 'the Transformer applied to what is written (inline; in an agglo config, transformerRef names one and is inlined here)',
  },
  external: {
    type: { kind: 'message', message: () => EXTERNAL },
    description:
      'where to write: { externalType, connectionString } — ExternalLocalFile (a directory), ExternalObjectStore (mem:<name> or a directory), ExternalHttp (URL), ExternalKVStore (mem:<name> in the process, or a state store URL: sqlite:…, redis://…, mysql://…, postgres://…), ExternalPubSub (see tee_payload)',
  },
  timeoutMs: {
    type: { kind: 'int64' },
    description: 'longest an HTTP request (or a transformer executable) may take, in ms (Tributary; default 30000; 0: no limit)',
  },
};

/** The options of {@link tee}: agglo's `Tee` message plus `retryStrategy`, an inline `transformer`, the resolved `external` and `timeoutMs`. */
export const TEE_OPTIONS = withFields(TEE, TEE_EXTRA);

/**
 * agglo's `MergeMaps`: `rhs` deep-merged into a copy of `lhs` — maps merge recursively, lists
 * concatenate, and a key both sides hold otherwise is a conflict (an error naming the key).
 *
 * @example
 * ```ts
 * mergeMaps({ a: { b: 1 }, l: [1] }, { a: { c: 2 }, l: [2], x: true }); // { a: { b: 1, c: 2 }, l: [1, 2], x: true }
 * ```
 */
export function mergeMaps(lhs: AggloMap, rhs: AggloMap): AggloMap {
  const out = deepCopy(lhs);
  for (const [k, v] of Object.entries(rhs)) {
    if (!Object.prototype.hasOwnProperty.call(out, k)) {
      out[k] = deepCopy(v);
      continue;
    }
    const cur = out[k];
    const isMap = (x: unknown): x is AggloMap => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (isMap(v) && isMap(cur)) out[k] = mergeMaps(cur, v);
    else if (Array.isArray(v) && Array.isArray(cur)) out[k] = [...cur, ...deepCopy(v)];
    else throw new Error(`additionalBody: key conflict (${k})`);
  }
  return out;
}

/**
 * JSON with map keys sorted, as Go's encoder writes maps, and a final newline.
 *
 * @example
 * ```ts
 * sortedJson({ b: 1, a: [{ d: 1, c: 2 }] }); // '{"a":[{"c":2,"d":1}],"b":1}\n'
 * ```
 */
export function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const out: AggloMap = {};
      for (const k of Object.keys(v).sort()) out[k] = sort((v as AggloMap)[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value)) + '\n';
}

/** One tee destination. */
interface Output {
  outputType: string;
  /** Shown in the tee record (passwords masked). */
  shown: string;
  /** Writes the body under `key`; returns the response to record, if any. */
  write(key: string, body: AggloMap): Promise<unknown>;
}

const kvStores = new Map<string, KeyValueStore>();

/**
 * The in-memory key-value store agglo's `mem:<name>` (or `local`) names, shared within the process.
 *
 * @example
 * ```ts
 * await memoryKvStore('teeStore').get('some-uuid');
 * ```
 */
export function memoryKvStore(name: string): KeyValueStore {
  let store = kvStores.get(name);
  if (!store) kvStores.set(name, (store = memoryStore()));
  return store;
}

function httpOutput(url: string, timeoutMs: number, scheduler: SchedulerLike): Output {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TributaryError('BAD_OPTION', `external: '${shownUrl(url)}' is not an http(s) URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TributaryError('BAD_OPTION', `external: '${shownUrl(url)}' is not an http(s) URL`);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const secrets = [parsed.password, decodeURIComponent(parsed.password)];
  if (parsed.username || parsed.password) {
    headers.authorization =
      'Basic ' + Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64');
    parsed.username = '';
    parsed.password = '';
  }
  const target = parsed.toString();
  const shown = shownUrl(url);
  return {
    outputType: 'web',
    shown,
    write: async (_key, body) => {
      const controller = new AbortController();
      const timer = timeoutMs > 0 ? scheduler.schedule(() => controller.abort(), timeoutMs) : undefined;
      let res: Response;
      let text: string;
      try {
        res = await fetch(target, { method: 'POST', headers, body: sortedJson(body), signal: controller.signal });
        text = await res.text();
      } catch (e) {
        const why = controller.signal.aborted ? `no answer within ${timeoutMs}ms` : errorMessage((e as Error).cause ?? e);
        throw new Error(`posting to ${shown} failed: ${redact(why, secrets)}`);
      } finally {
        timer?.unsubscribe();
      }
      if (res.status >= 300) throw new Error(`error status ${res.status} posting to url '${shown}'`);
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    },
  };
}

function openOutput(external: ProtoMessage | undefined, timeoutMs: number, scheduler: SchedulerLike, kv?: StoreHandle): Output {
  if (!external) {
    throw new TributaryError(
      'BAD_OPTION',
      "option 'external' is required: { externalType, connectionString } (an agglo config resolves outputConnectorRef into it)",
    );
  }
  const type = external.externalType as string;
  const conn = external.connectionString as string;
  const name = (external.name as string) || 'external';
  switch (type) {
    case 'ExternalLocalFile': {
      if (!conn) throw new TributaryError('BAD_OPTION', `external '${name}': connectionString must be a directory`);
      const store = openObjectStore(`file:${conn}`, `external '${name}'`);
      return {
        outputType: 'localfile',
        shown: conn,
        write: async (key, body) => void (await store.put(`${key}.json`, Buffer.from(sortedJson(body)))),
      };
    }
    case 'ExternalObjectStore': {
      const store: ObjectStore = openObjectStore(conn, `external '${name}'`);
      return { outputType: 'object', shown: conn, write: async (key, body) => void (await store.put(key, Buffer.from(sortedJson(body)))) };
    }
    case 'ExternalHttp':
      return httpOutput(conn, timeoutMs, scheduler);
    case 'ExternalKVStore': {
      const m = /^mem:(.*)$/.exec(conn);
      if (m || conn === 'local') {
        const store = memoryKvStore(m ? m[1] : 'local');
        return { outputType: 'kvstore', shown: conn, write: async (key, body) => void (await store.put(key, body)) };
      }
      // Any state store URL (sqlite:…, mysql://…, postgres://…, redis://…, memory:), opened
      // through the network's agglo state service (shared with aggregate/complete) or by the node.
      if (!kv) throw new TributaryError('BAD_OPTION', `external '${name}': no key-value store handle`);
      return { outputType: 'kvstore', shown: shownUrl(conn), write: async (key, body) => void (await (await kv.store()).put(key, body)) };
    }
    case 'ExternalPubSub':
      // Publishing is the job of the tee_payload node and the bus sink wired next to this one.
      return { outputType: 'pubsub', shown: shownUrl(conn), write: async () => undefined };
    default:
      throw new TributaryError('BAD_OPTION', `external '${name}': a tee cannot write to ${type}`);
  }
}

interface TeeParts {
  msg: ProtoMessage;
  /** What is written: transformer (default: a copy), then additionalBody. */
  body: (payload: AggloMap) => AggloMap | Promise<AggloMap>;
  condition: ReturnType<typeof compileCondition>;
  timeoutMs: number;
  transformer?: CompiledTransformer;
}

function teeParts(kind: string, options: Record<string, unknown>): TeeParts {
  const msg = readProcessOptions(kind, TEE_OPTIONS, options);
  return located(kind, msg, () => {
    const condition = compileCondition(msg.condition, 'condition');
    if (msg.transformerRef && !msg.transformer) {
      throw new TributaryError(
        'BAD_OPTION',
        `transformerRef '${String(msg.transformerRef)}' only resolves inside an agglo config: give the transformer inline`,
      );
    }
    const transformer = msg.transformer ? compileTransformer(msg.transformer as ProtoMessage, 'transformer') : undefined;
    const extra = (msg.additionalBody as AggloMap | undefined) ?? {};
    const timeoutMs = (msg.timeoutMs as number) || (options.timeoutMs === 0 ? 0 : DEFAULT_EXEC_TIMEOUT_MS);
    const withExtra = (b: AggloMap) => (Object.keys(extra).length ? mergeMaps(b, extra) : b);
    const body = (payload: AggloMap): AggloMap | Promise<AggloMap> => {
      if (!transformer) return withExtra(deepCopy(payload));
      if (!transformer.needsExec) return withExtra(transformer.applySync(payload));
      throw new Error('unreachable: exec transformers go through bodyWithExec');
    };
    return { msg, body, condition, timeoutMs, transformer };
  });
}

function bodyFn(parts: TeeParts, ctx: NodeContext, kind: string): (payload: AggloMap) => AggloMap | Promise<AggloMap> {
  const t = parts.transformer;
  if (!t?.needsExec) return parts.body;
  requireExec(ctx, kind);
  const exec: ExecFn = (path, input) => runJson(input, { path, timeoutMs: parts.timeoutMs, scheduler: ctx.scheduler });
  const extra = (parts.msg.additionalBody as AggloMap | undefined) ?? {};
  return async (payload) => {
    const b = await t.applyAsync(payload, exec);
    return Object.keys(extra).length ? mergeMaps(b, extra) : b;
  };
}

/**
 * Process node writing a copy of the event (through an optional transformer, deep-merged with
 * `additionalBody`) to an external system when its condition holds — a local directory
 * (`<uuid>.json`), an object store, an HTTP endpoint (POST; the JSON response is recorded), a
 * key-value store (in memory or any state store URL), or a bus (with {@link teePayload} and any sink) — then passing the
 * event on with a record `{ uuid, outputType, connectionString, response? }` appended to
 * `internal:tee:output`. The event goes on only once the write succeeded.
 *
 * @example
 * ```ts
 * net.add('before', agglo.tee({ external: { externalType: 'ExternalLocalFile', connectionString: '/tmp/before-events' } }));
 * ```
 */
export const tee = defineNode({
  name: 'tee',
  role: 'pipeline',
  io: 'files',
  summary: "agglo's tee: writes a copy of the event to a directory, object store, HTTP endpoint or key-value store, and records where.",
  options: protoOptions(TEE_OPTIONS, {
    name: 'the process name (for errors)',
    condition: 'agglo condition; the event is written only when it holds',
    additionalBody: 'object deep-merged into what is written (maps merge, lists concatenate, other clashes are errors)',
    transformerRef: 'agglo config only: the name of a transformer process (inlined as transformer)',
    outputConnectorRef: 'agglo config only: the name of the external system (resolved into external)',
  }),
  positional: [],
  example: "net.add('before', agglo.tee({ external: { externalType: 'ExternalObjectStore', connectionString: 'mem:before' } }));",
  luaExample:
    'tb.create_tee("keep", { external = { externalType = "ExternalKVStore", connectionString = "mem:kept" }, additionalBody = { routed = true } })',
  build: (options) => {
    const parts = teeParts('tee', options);
    const msg = parts.msg;
    const external = msg.external as ProtoMessage | undefined;
    const kvUrl =
      external?.externalType === 'ExternalKVStore' &&
      !/^mem:/.test(external.connectionString as string) &&
      external.connectionString !== 'local'
        ? (external.connectionString as string)
        : undefined;
    const handles = new WeakMap<NodeContext, StoreHandle>();
    const node = processNode('tee', retryOf(msg), (ctx): ProcessFn => {
      const kv = kvUrl !== undefined ? storeHandle(ctx, kvUrl) : undefined;
      if (kv) handles.set(ctx, kv);
      const output = located('tee', msg, () => openOutput(external, parts.timeoutMs, ctx.scheduler, kv));
      const body = bodyFn(parts, ctx, 'tee');
      return async (payload) => {
        if (!parts.condition.test(payload)) return payload;
        const existing = payload[TEE_OUTPUT_KEY];
        if (existing !== undefined && !Array.isArray(existing)) {
          throw new Error(`'${TEE_OUTPUT_KEY}' is corrupted: expected a list, got ${typeof existing}`);
        }
        const uuid = randomUUID();
        const response = await output.write(uuid, await body(payload));
        const out = deepCopy(payload);
        const record: AggloMap = { uuid, outputType: output.outputType, connectionString: output.shown };
        if (response !== undefined && !(typeof response === 'object' && response !== null && Object.keys(response).length === 0)) {
          record.response = response;
        }
        out[TEE_OUTPUT_KEY] = [...((existing as unknown[] | undefined) ?? []), record];
        return out;
      };
    });
    if (kvUrl === undefined) return node;
    return {
      ...node,
      services: [AGGLO_STATE_SERVICE],
      create: (ctx: NodeContext) => {
        const op = node.create(ctx);
        const handle = handles.get(ctx);
        return handle ? releasingAtEnd(op, handle) : op;
      },
    };
  },
});

/**
 * Process node emitting what a tee would write — the event through the optional transformer,
 * deep-merged with `additionalBody` — and dropping (acked) the events whose condition is
 * false. Wired before any sink (NATS, AMQP, MQTT, Redis, a file…) it is the tee to a bus; the
 * agglo translator does that for ExternalPubSub systems.
 *
 * @example
 * ```ts
 * net.add('to_bus', agglo.teePayload({ additionalBody: { routedTest: true } }));
 * net.add('bus', connectors.natsSink({ subject: 'tests' }));
 * net.link('to_bus', 'bus');
 * ```
 */
export const teePayload = defineNode({
  name: 'tee_payload',
  role: 'pipeline',
  summary: 'What an agglo tee would write (transformer, additionalBody) as the event, for a sink; drops events whose condition is false.',
  options: protoOptions(TEE_OPTIONS, {
    name: 'the process name (for errors)',
    condition: 'agglo condition; events for which it is false are dropped (acked)',
    additionalBody: 'object deep-merged into the payload (maps merge, lists concatenate, other clashes are errors)',
    transformerRef: 'agglo config only: the name of a transformer process (inlined as transformer)',
    outputConnectorRef: 'agglo config only: the external system (recorded, not used)',
    external: 'ignored here (the sink linked after this node is the destination)',
  }),
  positional: [],
  example: "net.add('to_bus', agglo.teePayload({ additionalBody: { routedTest: true } }));",
  luaExample: 'tb.create_tee_payload("to_bus", { additionalBody = { routedTest = true } })',
  build: (options) => {
    const parts = teeParts('tee_payload', options);
    return processNode('tee_payload', retryOf(parts.msg), (ctx): ProcessFn => {
      const body = bodyFn(parts, ctx, 'tee_payload');
      return (payload) => (parts.condition.test(payload) ? body(payload) : STOP);
    });
  },
});
