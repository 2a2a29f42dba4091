// The translator from an agglo (binge) config to Tributary's NetworkDocument: the input runs
// through agglo_ingest (internal:messageID) and fans out to every pipeline; each pipeline is
// an annotate node for internal:partitionID / internal:name, then its processes in order, then
// the output (or a discarder). External systems become tee destinations, state stores and bus
// sinks; their connection strings can be replaced without editing the config.
import type { EdgeDocument, NetworkDocument, NodeDocument } from '../declarative/document';
import { errorMessage, TributaryError } from '../errors';
import { MESSAGE_ID_KEY } from './ingest';
import { oneofCase, parseFieldPath, pathOfError, PIPELINES, PROCESS_DEFINITION, readMessage, type ProtoMessage } from './proto';
import { SourcePositions, type ValuePath } from '../declarative/positions';

/** A node kind and its options, for the input, the output or a bus sink. */
export interface NodeChoice {
  kind: string;
  options?: Record<string, unknown>;
}

/** Options of {@link aggloToDocument}. */
export interface AggloDocumentOptions {
  /** The config's file name, for error messages. */
  file: string;
  /** Where `TRIBUTARY_AGGLO_<SYSTEM>` overrides are read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Connection strings replacing those of the named external systems (win over the environment). */
  connections?: Record<string, string>;
  /** The source every event comes from (default `stdin_source`, NDJSON). */
  input?: NodeChoice;
  /** A node every pipeline's result goes to (default: none, each pipeline ends in a `discarder`). */
  output?: NodeChoice;
  /** Sinks for ExternalPubSub systems by name, instead of the one their connection string names. */
  sinks?: Record<string, NodeChoice>;
  /** Where each value of the config was written (the loader passes it): errors then start `file:line:column`. */
  positions?: SourcePositions;
}

/** A translation with the positions of its values in the config (when the config's were given). */
export interface AggloTranslation {
  document: NetworkDocument;
  /** Keyed by the document's paths (`['nodes', 3, 'options', 'condition']`), pointing into the config. */
  positions: SourcePositions;
}

/** Every top-level field of an agglo config (its `Pipelines` message). */
export const AGGLO_CONFIG_FIELDS = ['partitionUuid', 'pipelines', 'processDefinitions', 'externalSystems'] as const;

/**
 * True when a parsed JSON/YAML document looks like an agglo config: an object with
 * `pipelines` and at least one of `processDefinitions`, `partitionUuid`, `externalSystems`,
 * and no `nodes`.
 *
 * @example
 * ```ts
 * isAggloConfig({ partitionUuid: '…', pipelines: [] }); // true
 * isAggloConfig({ nodes: [], edges: [] });             // false
 * ```
 */
export function isAggloConfig(doc: unknown): boolean {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const d = doc as Record<string, unknown>;
  return !('nodes' in d) && Array.isArray(d.pipelines) && ('processDefinitions' in d || 'partitionUuid' in d || 'externalSystems' in d);
}

/**
 * The environment variable that replaces an external system's connection string:
 * `TRIBUTARY_AGGLO_` and the name in upper case, words split at camel-case humps and at
 * anything not a letter or digit.
 *
 * @example
 * ```ts
 * externalEnvName('BeforeEvents');           // 'TRIBUTARY_AGGLO_BEFORE_EVENTS'
 * externalEnvName('AggregatorStateKVStore'); // 'TRIBUTARY_AGGLO_AGGREGATOR_STATE_KVSTORE'
 * externalEnvName('tee-out');                // 'TRIBUTARY_AGGLO_TEE_OUT'
 * ```
 */
export function externalEnvName(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return `TRIBUTARY_AGGLO_${words}`;
}

interface External {
  name: string;
  type: string;
  connection: string;
}

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

const KIND_OF: Record<string, string> = {
  annotator: 'annotate',
  aggregator: 'aggregate',
  completer: 'complete',
  filter: 'agglo_filter',
  spawner: 'spawn',
  tee: 'tee',
  transformer: 'transform',
  continuation: 'continue',
};

/** The bus sink a pub/sub connection string names, or undefined for agglo's in-memory topics. */
function busSink(connection: string): NodeChoice | undefined {
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    return undefined;
  }
  const where = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  const base = `${url.protocol}//${url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''}${url.host}`;
  const param = (k: string) => url.searchParams.get(k);
  switch (url.protocol) {
    case 'nats:':
      if (!where) return undefined;
      return { kind: 'nats_sink', options: { url: base, subject: where, jetstream: param('jetstream') === 'true' } };
    case 'redis:':
    case 'rediss:':
      if (!where) return undefined;
      return { kind: 'redis_pubsub_sink', options: { url: base, channel: where } };
    case 'mqtt:':
    case 'mqtts:':
      if (!where) return undefined;
      return { kind: 'mqtt_sink', options: { url: base, topic: where } };
    case 'amqp:':
    case 'amqps:': {
      const exchange = param('exchange') ?? '';
      const routingKey = param('routingKey') ?? where;
      if (!routingKey && !exchange) return undefined;
      return { kind: 'amqp_sink', options: { url: `${base}${param('vhost') ? `/${param('vhost')}` : ''}`, exchange, routingKey } };
    }
    default:
      return undefined;
  }
}

/** Key-value connection strings as state store URLs: agglo's `local` and bare `mem` name an in-memory store. */
function stateStoreUrl(ext: External): string {
  const c = ext.connection;
  if (c === 'local' || c === 'mem' || c === 'mem:' || c === '') return `mem:${ext.name}`;
  if (/^dynamo:/.test(c)) {
    throw new Error(
      `external system '${ext.name}': DynamoDB is not supported; point it at a store with ${externalEnvName(ext.name)}=sqlite:./state.db (or redis://…, memory:)`,
    );
  }
  return c;
}

/**
 * Translates an agglo config (already parsed from JSON) to a {@link NetworkDocument}, checking
 * it as agglo's protobuf-JSON (unknown fields, enum names, oneofs) and its references
 * (processes, external systems, transformers). Errors name the file and the field path.
 *
 * Each event from the input gets `internal:messageID` (node `agglo:ingest`) and goes through
 * every pipeline from that original: pipeline `P` starts with node `P` (an `annotate` adding
 * `internal:partitionID` and `internal:name`), then one node `P/<process>` per process
 * (`P/<process>#2` for a repeat), then `P/end` (a `discarder`) or the shared `output` node.
 * In node names, spaces and quotes become `_` (`Mirror/Send_to_Live`).
 *
 * @example
 * ```ts
 * const doc = aggloToDocument(JSON.parse(fs.readFileSync('basic_pipeline.json', 'utf8')), {
 *   file: 'basic_pipeline.json',
 *   connections: { BeforeEvents: './out/before', AfterEvents: './out/after' },
 * });
 * ```
 */
export function aggloToDocument(config: unknown, opts: AggloDocumentOptions & { positions: SourcePositions }): AggloTranslation;
export function aggloToDocument(config: unknown, opts: AggloDocumentOptions): NetworkDocument;
export function aggloToDocument(config: unknown, opts: AggloDocumentOptions): NetworkDocument | AggloTranslation {
  const where = (path: (string | number)[]) => {
    const at = opts.positions?.at(path);
    return at ? `${opts.file}:${at.line}:${at.column}` : opts.file;
  };
  const fail = (path: string, message: string): never => {
    throw new TributaryError('BAD_OPTION', `${where(parseFieldPath(path))}: ${path ? `${path}: ` : ''}${message}`);
  };
  let msg: ProtoMessage;
  try {
    msg = readMessage(PIPELINES, config, '');
  } catch (e) {
    throw new TributaryError('BAD_OPTION', `${where(pathOfError(e) ?? [])}: ${errorMessage(e)}`, { cause: e });
  }
  const raw = config as Record<string, unknown>;
  const env = opts.env ?? process.env;

  const given = msg.partitionUuid as string;
  if (!UUID.test(given)) fail('partitionUuid', `must be a UUID, got ${JSON.stringify(given)}`);
  // As Go's uuid.String(): lower case, hyphenated.
  const hex = given.replace(/-/g, '').toLowerCase();
  const partition = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

  // External systems, with their connection strings overridden where asked.
  const externals = new Map<string, External>();
  (msg.externalSystems as ProtoMessage[]).forEach((e, i) => {
    const name = e.name as string;
    if (!name) fail(`externalSystems[${i}].name`, 'is required');
    if (externals.has(name)) fail(`externalSystems[${i}].name`, `'${name}' is defined twice`);
    if (e.externalType === 'ExternalUnknown') fail(`externalSystems[${i}].externalType`, 'is required');
    const connection = opts.connections?.[name] ?? env[externalEnvName(name)] ?? (e.connectionString as string);
    externals.set(name, { name, type: e.externalType as string, connection });
  });
  for (const name of Object.keys(opts.connections ?? {})) {
    if (!externals.has(name))
      fail('', `connection override for '${name}': no external system has that name (${[...externals.keys()].join(', ') || 'none'})`);
  }

  // Process definitions by name, with their raw JSON (the node kinds read it themselves).
  interface Definition {
    which: string;
    index: number;
    raw: Record<string, unknown>;
    msg: ProtoMessage;
  }
  const definitions = new Map<string, Definition>();
  const rawDefs = (raw.processDefinitions as Record<string, unknown>[] | undefined) ?? [];
  (msg.processDefinitions as ProtoMessage[]).forEach((d, i) => {
    const which = oneofCase(PROCESS_DEFINITION, d, 'processDefinition');
    if (!which)
      return fail(
        `processDefinitions[${i}]`,
        'is empty: give one of annotator, aggregator, completer, filter, spawner, tee, transformer, continuation',
      );
    const def = d[which] as ProtoMessage;
    const name = def.name as string;
    if (!name) fail(`processDefinitions[${i}].${which}.name`, 'is required');
    if (definitions.has(name)) fail(`processDefinitions[${i}].${which}.name`, `name conflict in process definitions: ${name}`);
    definitions.set(name, { which, index: i, raw: { ...(rawDefs[i][which] as Record<string, unknown>) }, msg: def });
  });

  const nodes: NodeDocument[] = [];
  const edges: EdgeDocument[] = [];
  const names = new Set<string>();
  const fromConfig = new Set<string>();
  // Where each translated node's options came from in the config: [node index, options key or '', config path, value].
  const origins: Array<[number, string, ValuePath, unknown]> = [];
  const origin = (key: string, path: ValuePath, value: unknown) => origins.push([nodes.length, key, path, value]);
  const addNode = (node: NodeDocument, configured = true) => {
    if (configured) fromConfig.add(node.name);
    if (names.has(node.name)) fail('', `two nodes would be named '${node.name}': rename a pipeline or process`);
    names.add(node.name);
    nodes.push(node);
  };
  const input = opts.input ?? { kind: 'stdin_source' };
  addNode({ name: 'input', kind: input.kind, ...(input.options ? { options: input.options } : {}) }, false);
  addNode({ name: 'agglo:ingest', kind: 'agglo_ingest', options: { key: MESSAGE_ID_KEY } });
  edges.push({ from: 'input', to: 'agglo:ingest' });
  if (opts.output)
    addNode({ name: 'output', kind: opts.output.kind, ...(opts.output.options ? { options: opts.output.options } : {}) }, false);

  const heads: string[] = [];
  const ends: string[] = [];
  (msg.pipelines as ProtoMessage[]).forEach((p, pi) => {
    const at = `pipelines[${pi}]`;
    const pipeline = p.name as string;
    if (!pipeline) fail(`${at}.name`, 'is required');
    const checkpoint = p.checkpoint as ProtoMessage | undefined;
    if (checkpoint) {
      const ref = checkpoint.outputConnectorRef as string;
      const ext = externals.get(ref);
      if (!ext || (ext.type !== 'ExternalKVStore' && ext.type !== 'ExternalLocalFile')) {
        fail(`${at}.checkpoint.outputConnectorRef`, `'${ref}' is not a key-value store or local file external system`);
      }
    }
    origin('', ['pipelines', pi, 'name'], undefined);
    addNode({
      name: safe(pipeline),
      kind: 'annotate',
      options: {
        name: `${pipeline} (internal)`,
        annotations: [
          { fieldKey: 'internal:partitionID', value: partition },
          { fieldKey: 'internal:name', value: pipeline },
        ],
      },
    });
    heads.push(safe(pipeline));
    let prev = safe(pipeline);
    const seen = new Map<string, number>();
    (p.processes as ProtoMessage[]).forEach((proc, i) => {
      const pat = `${at}.processes[${i}]`;
      const pname = proc.name as string;
      const def = definitions.get(pname);
      if (!def) return fail(`${pat}.name`, `cannot find process: ${pname}`);
      const count = (seen.get(pname) ?? 0) + 1;
      seen.set(pname, count);
      const nodeName = `${safe(pipeline)}/${safe(pname)}${count > 1 ? `#${count}` : ''}`;
      const defAt = `processDefinitions[${def.index}].${def.which}`;
      if (def.which === 'entwine') fail(defAt, 'entwine is not supported yet (a separate issue)');
      const kind = KIND_OF[def.which];
      const options: Record<string, unknown> = { ...def.raw };
      const rawRetry = (rawProcessesOf(raw, pi)[i] as Record<string, unknown> | undefined)?.retryStrategy;
      const stateful = def.which === 'aggregator' || def.which === 'completer';
      if (rawRetry !== undefined && rawRetry !== null && !stateful) options.retryStrategy = rawRetry;
      let side: { payload: NodeDocument; sink: NodeDocument; system: string } | undefined;
      if (stateful) {
        const ref = def.msg.stateStore as string;
        const ext = externals.get(ref);
        if (!ext || ext.type !== 'ExternalKVStore') fail(`${defAt}.stateStore`, `unknown kvStore for ${pname}: ${ref}`);
        try {
          options.stateStore = stateStoreUrl(ext!);
        } catch (e) {
          fail(`${defAt}.stateStore`, errorMessage(e));
        }
      }
      if (def.which === 'tee') {
        const ref = def.msg.transformerRef as string;
        if (ref) {
          const t = definitions.get(ref);
          if (!t) fail(`${defAt}.transformerRef`, `${ref} is not a valid transformer ref`);
          if (t!.which !== 'transformer') fail(`${defAt}.transformerRef`, `${ref} is not a transformer process`);
          options.transformer = t!.raw;
        }
        const out = def.msg.outputConnectorRef as string;
        const ext = externals.get(out);
        if (!ext) return fail(`${defAt}.outputConnectorRef`, `${JSON.stringify(out)} is not a valid external reference`);
        if (ext.type === 'ExternalSearchIndex')
          fail(`${defAt}.outputConnectorRef`, `'${out}' is a search index, which tees cannot write to here`);
        options.external = { name: ext.name, externalType: ext.type, connectionString: ext.connection };
        if (ext.type === 'ExternalPubSub') {
          const sink = opts.sinks?.[ext.name] ?? busSink(ext.connection) ?? { kind: 'discarder' };
          const { external: _unused, ...payloadOptions } = options;
          void _unused;
          side = {
            system: ext.name,
            payload: { name: `${nodeName}#payload`, kind: 'tee_payload', options: payloadOptions },
            sink: { name: `${nodeName}#sink`, kind: sink.kind, ...(sink.options ? { options: sink.options } : {}) },
          };
        }
      }
      const defPath: ValuePath = ['processDefinitions', def.index, def.which];
      origin('', ['pipelines', pi, 'processes', i, 'name'], undefined);
      origin('', defPath, def.raw);
      if (options.retryStrategy !== undefined)
        origin('retryStrategy', ['pipelines', pi, 'processes', i, 'retryStrategy'], options.retryStrategy);
      if (options.transformer !== undefined) {
        const t = definitions.get(def.msg.transformerRef as string)!;
        origin('transformer', ['processDefinitions', t.index, 'transformer'], t.raw);
      }
      addNode({ name: nodeName, kind, options });
      if (side) {
        origin('', defPath, def.raw);
        addNode(side.payload);
        origin('', ['processDefinitions', def.index, def.which, 'outputConnectorRef'], undefined);
        addNode(side.sink, !opts.sinks?.[side.system]);
        edges.push({ from: prev, to: [nodeName, side.payload.name] });
        edges.push({ from: side.payload.name, to: side.sink.name });
      } else edges.push({ from: prev, to: nodeName });
      prev = nodeName;
    });
    if (opts.output) ends.push(prev);
    else {
      addNode({ name: `${safe(pipeline)}/end`, kind: 'discarder' });
      edges.push({ from: prev, to: `${safe(pipeline)}/end` });
    }
  });
  if (heads.length === 0) fail('pipelines', 'has no pipeline');
  edges.push({ from: 'agglo:ingest', to: heads.length === 1 ? heads[0] : heads });
  if (opts.output) edges.push({ from: ends.length === 1 ? ends[0] : ends, to: 'output' });
  // The builder expands `${NAME}` in string options; agglo configs have no such references, and a
  // Go template such as `${1}` must reach the node as written. (Options given to this function
  // — the input, the output, bus sinks — are left as they are.)
  for (const node of nodes)
    if (node.options && fromConfig.has(node.name)) node.options = escapeReferences(node.options) as Record<string, unknown>;
  const document: NetworkDocument = { version: 1, nodes, edges };
  if (!opts.positions) return document;
  return { document, positions: mapPositions(opts.positions, origins) };
}

/** Positions keyed by the document's paths, from where each node's options were in the config. */
function mapPositions(from: SourcePositions, origins: Array<[number, string, ValuePath, unknown]>): SourcePositions {
  const out = new SourcePositions();
  const walk = (doc: ValuePath, cfg: ValuePath, value: unknown) => {
    const at = from.at(cfg);
    if (at) out.set(doc, at);
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const key = Array.isArray(value) ? Number(k) : k;
        walk([...doc, key], [...cfg, key], v);
      }
    }
  };
  for (const [index, key, cfg, value] of origins) {
    if (key === '') {
      walk(['nodes', index], cfg, undefined);
      if (value !== undefined) walk(['nodes', index, 'options'], cfg, value);
    } else walk(['nodes', index, 'options', key], cfg, value);
  }
  return out;
}

function escapeReferences(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\{/g, () => '$${');
  if (Array.isArray(value)) return value.map(escapeReferences);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = escapeReferences(v);
    return out;
  }
  return value;
}

/** A pipeline or process name as a node name: spaces, quotes and control characters become `_`. */
function safe(name: string): string {
  return name.replace(/[\s\u0000-\u001f"']+/g, '_');
}

function rawProcessesOf(raw: Record<string, unknown>, pipelineIndex: number): unknown[] {
  const pipelines = raw.pipelines as Array<Record<string, unknown>> | undefined;
  const procs = pipelines?.[pipelineIndex]?.processes;
  return Array.isArray(procs) ? procs : [];
}
