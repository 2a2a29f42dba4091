// A small reader for agglo's configuration in the protobuf-JSON mapping (proto3 JSON as Go's
// jsonpb reads it): lowerCamel field names, enums as names or numbers, int64 as numbers or
// decimal strings, one field per `oneof`, unknown fields rejected. Every message of agglo's
// `pipeline.proto` that Tributary reads is described here once, so the config translator and
// each node kind's options report the same errors, naming the field by its path.
import { TributaryError } from '../errors';
import { suggest } from '../util/suggest';

/** The type of one field. */
export type ProtoType =
  | { readonly kind: 'string' | 'bool' | 'int32' | 'int64' | 'double' | 'struct' }
  | { readonly kind: 'enum'; readonly values: Readonly<Record<string, number>> }
  | { readonly kind: 'message'; readonly message: () => MessageDescriptor };

/** One field of a message. */
export interface FieldDescriptor {
  readonly type: ProtoType;
  readonly repeated?: boolean;
  /** The `oneof` group the field belongs to: at most one field of a group may be set. */
  readonly oneof?: string;
  /** Shown in docs and errors. */
  readonly description?: string;
}

/** A message: its name (for errors) and its fields by JSON name. */
export interface MessageDescriptor {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldDescriptor>>;
}

/** A message as read: defaults filled for scalars and lists; unset messages and oneof members absent. */
export type ProtoMessage = Record<string, unknown>;

/**
 * The error a bad config or bad options give: `BAD_OPTION` naming the field path.
 *
 * @example
 * ```ts
 * throw protoError('processDefinitions[2].tee', "unknown field 'outputRef'");
 * ```
 */
export function protoError(path: string, message: string): TributaryError {
  const err = new TributaryError('BAD_OPTION', path ? `${path}: ${message}` : message);
  // The field path, for callers that can turn it into a line of the file (the config translator).
  Object.defineProperty(err, 'protoPath', { value: path, enumerable: false });
  return err;
}

/**
 * The field path a {@link protoError} names, as a list of keys and indexes.
 *
 * @example
 * ```ts
 * pathOfError(protoError('pipelines[0].processes[2].name', 'x')); // ['pipelines', 0, 'processes', 2, 'name']
 * ```
 */
export function pathOfError(err: unknown): (string | number)[] | undefined {
  const p = (err as { protoPath?: unknown } | null)?.protoPath;
  return typeof p === 'string' ? parseFieldPath(p) : undefined;
}

/**
 * A field path as written in messages (`a[0].b`) as a list of keys and indexes.
 *
 * @example
 * ```ts
 * parseFieldPath('processDefinitions[3].tee.condition'); // ['processDefinitions', 3, 'tee', 'condition']
 * ```
 */
export function parseFieldPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const INT64 = /^-?\d+$/;

function readScalar(type: ProtoType, value: unknown, path: string): unknown {
  switch (type.kind) {
    case 'string':
      if (typeof value !== 'string') throw protoError(path, `must be a string, got ${show(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw protoError(path, `must be true or false, got ${show(value)}`);
      return value;
    case 'int32':
    case 'int64': {
      const n = typeof value === 'string' && INT64.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw protoError(path, `must be an integer, got ${show(value)}`);
      if (type.kind === 'int32' && (n < -2147483648 || n > 2147483647)) throw protoError(path, `must fit in 32 bits, got ${n}`);
      if (!Number.isSafeInteger(n)) throw protoError(path, `is too large (${String(value)})`);
      return n;
    }
    case 'double': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string') {
        if (value === 'NaN') return NaN;
        if (value === 'Infinity') return Infinity;
        if (value === '-Infinity') return -Infinity;
        const n = Number(value);
        if (value.trim() !== '' && Number.isFinite(n)) return n;
      }
      throw protoError(path, `must be a number, got ${show(value)}`);
    }
    case 'enum': {
      const names = Object.keys(type.values);
      if (typeof value === 'string') {
        if (Object.prototype.hasOwnProperty.call(type.values, value)) return value;
        const hint = suggest(value, names);
        throw protoError(path, `unknown value "${value}" (one of: ${names.join(', ')})${hint ? ` — did you mean "${hint}"?` : ''}`);
      }
      if (typeof value === 'number') {
        const name = names.find((n) => type.values[n] === value);
        if (name !== undefined) return name;
        throw protoError(path, `unknown value ${value} (one of: ${names.map((n) => `${n}=${type.values[n]}`).join(', ')})`);
      }
      throw protoError(path, `must be one of ${names.join(', ')}, got ${show(value)}`);
    }
    case 'struct':
      // An empty list is an empty object: what an empty Lua table becomes.
      if (Array.isArray(value) && value.length === 0) return {};
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw protoError(path, `must be an object, got ${show(value)}`);
      return value;
    case 'message':
      return readMessage(type.message(), value, path);
  }
}

function defaultOf(type: ProtoType): unknown {
  switch (type.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
    case 'double':
      return 0;
    case 'enum':
      return Object.keys(type.values).find((n) => type.values[n] === 0) ?? Object.keys(type.values)[0];
    default:
      return undefined;
  }
}

/**
 * Reads one message from its protobuf-JSON form: unknown fields (with a suggestion), wrong
 * types, bad enum names and two members of one `oneof` are errors naming `path`. Scalars left
 * out get their proto3 default (`''`, `0`, `false`, the enum's zero name), lists `[]`; messages
 * and oneof members left out stay absent. `null` counts as left out; an empty list is read as an
 * empty message (an empty Lua table).
 *
 * @example
 * ```ts
 * readMessage(RETRY_STRATEGY, { numRetries: 2, initialBackOffMs: '100' }, 'retryStrategy');
 * // { numRetries: 2, initialBackOffMs: 100 }
 * readMessage(RETRY_STRATEGY, { retries: 2 }, 'retryStrategy');
 * // throws "retryStrategy: unknown field 'retries' (fields: numRetries, initialBackOffMs)"
 * ```
 */
export function readMessage(desc: MessageDescriptor, value: unknown, path: string): ProtoMessage {
  // Absent, null, or an empty list (an empty Lua table) is the empty message.
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) throw protoError(path, `must be an object (${desc.name}), got ${show(value)}`);
  const input = value as Record<string, unknown>;
  const known = Object.keys(desc.fields);
  const at = (key: string) => (path ? `${path}.${key}` : key);
  for (const key of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(desc.fields, key)) {
      const hint = suggest(key, known);
      throw protoError(
        path || desc.name,
        `unknown field '${key}' in ${desc.name} (fields: ${known.join(', ')})${hint ? ` — did you mean '${hint}'?` : ''}`,
      );
    }
  }
  const out: ProtoMessage = {};
  const oneofs = new Map<string, string>();
  for (const [key, field] of Object.entries(desc.fields)) {
    const raw = input[key];
    if (raw === undefined || raw === null) {
      if (field.oneof) continue;
      if (field.repeated) out[key] = [];
      else {
        const d = defaultOf(field.type);
        if (d !== undefined) out[key] = d;
      }
      continue;
    }
    if (field.oneof) {
      const other = oneofs.get(field.oneof);
      if (other !== undefined)
        throw protoError(path || desc.name, `'${other}' and '${key}' are alternatives (oneof ${field.oneof}): give only one`);
      oneofs.set(field.oneof, key);
    }
    if (field.repeated) {
      if (!Array.isArray(raw)) throw protoError(at(key), `must be a list, got ${show(raw)}`);
      out[key] = raw.map((item, i) => readScalar(field.type, item, `${at(key)}[${i}]`));
    } else out[key] = readScalar(field.type, raw, at(key));
  }
  return out;
}

/**
 * Which member of a oneof group is set in a message read by {@link readMessage}, if any.
 *
 * @example
 * ```ts
 * oneofCase(CONDITION, readMessage(CONDITION, { exists: { ops: [] } }, ''), 'condition'); // 'exists'
 * ```
 */
export function oneofCase(desc: MessageDescriptor, msg: ProtoMessage, group: string): string | undefined {
  return Object.keys(desc.fields).find((k) => desc.fields[k].oneof === group && msg[k] !== undefined);
}

const t = {
  string: { kind: 'string' } as const,
  bool: { kind: 'bool' } as const,
  int32: { kind: 'int32' } as const,
  int64: { kind: 'int64' } as const,
  double: { kind: 'double' } as const,
  struct: { kind: 'struct' } as const,
  enum: (values: Record<string, number>): ProtoType => ({ kind: 'enum', values }),
  msg: (message: () => MessageDescriptor): ProtoType => ({ kind: 'message', message }),
};

// ---- Conditions ---------------------------------------------------------------------------

/** `ExistsOperator`. */
export const EXISTS_OPERATORS = { UnknownExists: 0, Exists: 1, NotExists: 2 };
/** `UnaryOperator`. */
export const UNARY_OPERATORS = { UnknownUnary: 0, Negation: 3, Inversion: 4, LogicalNot: 5 };
/** `BinaryOperator`. */
export const BINARY_OPERATORS = {
  UnknownBinary: 0,
  Addition: 6,
  Subtract: 7,
  Multiply: 8,
  Divide: 9,
  Power: 10,
  Modulus: 11,
  RightShift: 12,
  LeftShift: 13,
  Or: 14,
  And: 15,
  Xor: 16,
};
/** `LogicalOperator`. */
export const LOGICAL_OPERATORS = { UnknownLogical: 0, LogicalAnd: 17, LogicalOr: 18 };
/** `ComparatorOperator`. */
export const COMPARATOR_OPERATORS = {
  UnknownComparator: 0,
  GreaterThan: 19,
  LessThan: 20,
  GreaterThanOrEqual: 21,
  LessThanOrEqual: 22,
  Equal: 23,
  NotEqual: 24,
  RegexMatch: 25,
  RegexNotMatch: 26,
};

/** `Operand`: one of expression, variable, literal (string) or numeric (double). */
export const OPERAND: MessageDescriptor = {
  name: 'Operand',
  fields: {
    expression: { type: t.msg(() => EXPRESSION), oneof: 'operand' },
    variable: { type: t.msg(() => VARIABLE), oneof: 'operand' },
    literal: { type: t.string, oneof: 'operand' },
    numeric: { type: t.double, oneof: 'operand' },
  },
};
/** `Variable`: a dot path into the event. */
export const VARIABLE: MessageDescriptor = { name: 'Variable', fields: { name: { type: t.string } } };
const binaryLike = (name: string, ops: Record<string, number>): MessageDescriptor => ({
  name,
  fields: { lhs: { type: t.msg(() => OPERAND) }, rhs: { type: t.msg(() => OPERAND) }, op: { type: t.enum(ops) } },
});
/** `ComparatorExpression`. */
export const COMPARATOR_EXPRESSION = binaryLike('ComparatorExpression', COMPARATOR_OPERATORS);
/** `LogicalExpression`. */
export const LOGICAL_EXPRESSION = binaryLike('LogicalExpression', LOGICAL_OPERATORS);
/** `BinaryExpression`. */
export const BINARY_EXPRESSION = binaryLike('BinaryExpression', BINARY_OPERATORS);
/** `UnaryExpression`. */
export const UNARY_EXPRESSION: MessageDescriptor = {
  name: 'UnaryExpression',
  fields: { rhs: { type: t.msg(() => OPERAND) }, op: { type: t.enum(UNARY_OPERATORS) } },
};
/** `BooleanExpression`. */
export const BOOLEAN_EXPRESSION: MessageDescriptor = { name: 'BooleanExpression', fields: { value: { type: t.bool } } };
/** `Expression`: one of boolean, comparator, logical, binary, unary. */
export const EXPRESSION: MessageDescriptor = {
  name: 'Expression',
  fields: {
    boolean: { type: t.msg(() => BOOLEAN_EXPRESSION), oneof: 'expression' },
    comparator: { type: t.msg(() => COMPARATOR_EXPRESSION), oneof: 'expression' },
    logical: { type: t.msg(() => LOGICAL_EXPRESSION), oneof: 'expression' },
    binary: { type: t.msg(() => BINARY_EXPRESSION), oneof: 'expression' },
    unary: { type: t.msg(() => UNARY_EXPRESSION), oneof: 'expression' },
  },
};
/** `ExistsOperation`. */
export const EXISTS_OPERATION: MessageDescriptor = {
  name: 'ExistsOperation',
  fields: { key: { type: t.string }, op: { type: t.enum(EXISTS_OPERATORS) } },
};
/** `ExistsExpression`. */
export const EXISTS_EXPRESSION: MessageDescriptor = {
  name: 'ExistsExpression',
  fields: { ops: { type: t.msg(() => EXISTS_OPERATION), repeated: true } },
};
/** `Condition`: one of expression or exists; empty means true. */
export const CONDITION: MessageDescriptor = {
  name: 'Condition',
  fields: {
    expression: { type: t.msg(() => EXPRESSION), oneof: 'condition' },
    exists: { type: t.msg(() => EXISTS_EXPRESSION), oneof: 'condition' },
  },
};

// ---- Processes ----------------------------------------------------------------------------

/** `Annotation`. */
export const ANNOTATION: MessageDescriptor = {
  name: 'Annotation',
  fields: { fieldKey: { type: t.string }, value: { type: t.string }, condition: { type: t.msg(() => CONDITION) } },
};
/** `Annotator`. */
export const ANNOTATOR: MessageDescriptor = {
  name: 'Annotator',
  fields: { name: { type: t.string }, annotations: { type: t.msg(() => ANNOTATION), repeated: true } },
};
/** `AggregationType`. */
export const AGGREGATION_TYPES = {
  AggUnknown: 0,
  AggSum: 1,
  AggMax: 2,
  AggMin: 3,
  AggAvg: 4,
  AggCount: 5,
  AggDiscreteHistogram: 6,
};
/** `Aggregation`. */
export const AGGREGATION: MessageDescriptor = {
  name: 'Aggregation',
  fields: {
    key: { type: t.string },
    aggregationType: { type: t.enum(AGGREGATION_TYPES) },
    groupByKeys: { type: t.string, repeated: true },
  },
};
/** `Aggregator`. */
export const AGGREGATOR: MessageDescriptor = {
  name: 'Aggregator',
  fields: {
    name: { type: t.string },
    condition: { type: t.msg(() => CONDITION) },
    stateStore: { type: t.string },
    aggregation: { type: t.msg(() => AGGREGATION) },
    asyncCheckpoint: { type: t.bool },
    forwardState: { type: t.bool },
  },
};
/** `Completion`. */
export const COMPLETION: MessageDescriptor = {
  name: 'Completion',
  fields: { joinKeys: { type: t.string, repeated: true }, timeoutMs: { type: t.int64 } },
};
/** `Completer`. */
export const COMPLETER: MessageDescriptor = {
  name: 'Completer',
  fields: {
    name: { type: t.string },
    condition: { type: t.msg(() => CONDITION) },
    stateStore: { type: t.string },
    completion: { type: t.msg(() => COMPLETION) },
  },
};
/** `Filter`. */
export const FILTER: MessageDescriptor = {
  name: 'Filter',
  fields: { name: { type: t.string }, regex: { type: t.string }, keepMatched: { type: t.bool } },
};
/** `Runnable`. */
export const RUNNABLE: MessageDescriptor = {
  name: 'Runnable',
  fields: { pathToExec: { type: t.string }, cmdArgs: { type: t.string, repeated: true } },
};
/** `Job`. */
export const JOB: MessageDescriptor = { name: 'Job', fields: { runnable: { type: t.msg(() => RUNNABLE) } } };
/** `Spawner`. */
export const SPAWNER: MessageDescriptor = {
  name: 'Spawner',
  fields: {
    name: { type: t.string },
    condition: { type: t.msg(() => CONDITION) },
    delayInMs: { type: t.int64 },
    doSync: { type: t.bool },
    job: { type: t.msg(() => JOB) },
  },
};
/** `Tee`. */
export const TEE: MessageDescriptor = {
  name: 'Tee',
  fields: {
    name: { type: t.string },
    condition: { type: t.msg(() => CONDITION) },
    additionalBody: { type: t.struct },
    transformerRef: { type: t.string },
    outputConnectorRef: { type: t.string },
  },
};
/** `Continuation`. */
export const CONTINUATION: MessageDescriptor = {
  name: 'Continuation',
  fields: { name: { type: t.string }, condition: { type: t.msg(() => CONDITION) } },
};
/** `TransformationType`. */
export const TRANSFORMATION_TYPES = {
  TransformUnknown: 0,
  TransformSum: 1,
  TransformCopy: 2,
  TransformMapRegex: 3,
  TransformMapAdd: 4,
  TransformMapMult: 5,
  TransformCount: 6,
  TransformLeftFold: 7,
  TransformRightFold: 8,
  TransformMap: 9,
  TransformPopHead: 10,
  TransformPopTail: 11,
};
const pathArgs = (name: string): MessageDescriptor => ({ name, fields: { path: { type: t.string } } });
const valueArgs = (name: string): MessageDescriptor => ({ name, fields: { value: { type: t.double } } });
/** `Transformation`. */
export const TRANSFORMATION: MessageDescriptor = {
  name: 'Transformation',
  fields: {
    condition: { type: t.msg(() => CONDITION) },
    transformationType: { type: t.enum(TRANSFORMATION_TYPES) },
    mapArgs: { type: t.msg(() => pathArgs('MapArgs')), oneof: 'transformArgs' },
    mapAddArgs: { type: t.msg(() => valueArgs('MapAddArgs')), oneof: 'transformArgs' },
    mapMultArgs: { type: t.msg(() => valueArgs('MapMultArgs')), oneof: 'transformArgs' },
    mapRegexArgs: {
      type: t.msg(() => ({ name: 'MapRegexArgs', fields: { regex: { type: t.string }, replace: { type: t.string } } })),
      oneof: 'transformArgs',
    },
    leftFoldArgs: { type: t.msg(() => pathArgs('LeftFoldArgs')), oneof: 'transformArgs' },
    rightFoldArgs: { type: t.msg(() => pathArgs('RightFoldArgs')), oneof: 'transformArgs' },
  },
};
/** `TransformerSpec`. */
export const TRANSFORMER_SPEC: MessageDescriptor = {
  name: 'TransformerSpec',
  fields: {
    sourceField: { type: t.string },
    targetField: { type: t.string },
    transformation: { type: t.msg(() => TRANSFORMATION) },
  },
};
/** `Transformer`. */
export const TRANSFORMER: MessageDescriptor = {
  name: 'Transformer',
  fields: {
    name: { type: t.string },
    specs: { type: t.msg(() => TRANSFORMER_SPEC), repeated: true },
    forwardInputFields: { type: t.bool },
  },
};
/** `Entwine` (read so configs load; the process itself is a separate issue). */
export const ENTWINE: MessageDescriptor = {
  name: 'Entwine',
  fields: {
    name: { type: t.string },
    streamStateStore: { type: t.string },
    objectStore: { type: t.string },
    pemPath: { type: t.string },
    subStreamID: { type: t.string },
    tickerEndpoint: { type: t.string },
    tickerInterval: { type: t.int32 },
    condition: { type: t.msg(() => CONDITION) },
  },
};
/** `ProcessDefinition`: one process, by its oneof key. */
export const PROCESS_DEFINITION: MessageDescriptor = {
  name: 'ProcessDefinition',
  fields: {
    annotator: { type: t.msg(() => ANNOTATOR), oneof: 'processDefinition' },
    aggregator: { type: t.msg(() => AGGREGATOR), oneof: 'processDefinition' },
    completer: { type: t.msg(() => COMPLETER), oneof: 'processDefinition' },
    filter: { type: t.msg(() => FILTER), oneof: 'processDefinition' },
    spawner: { type: t.msg(() => SPAWNER), oneof: 'processDefinition' },
    tee: { type: t.msg(() => TEE), oneof: 'processDefinition' },
    transformer: { type: t.msg(() => TRANSFORMER), oneof: 'processDefinition' },
    continuation: { type: t.msg(() => CONTINUATION), oneof: 'processDefinition' },
    entwine: { type: t.msg(() => ENTWINE), oneof: 'processDefinition' },
  },
};

// ---- Pipelines ----------------------------------------------------------------------------

/** `RetryStrategy`. */
export const RETRY_STRATEGY: MessageDescriptor = {
  name: 'RetryStrategy',
  fields: { numRetries: { type: t.int32 }, initialBackOffMs: { type: t.int64 } },
};
/** `ProcessInstrumentation`. */
export const INSTRUMENTATION: MessageDescriptor = {
  name: 'ProcessInstrumentation',
  fields: { enableTracing: { type: t.bool }, latency: { type: t.bool }, counter: { type: t.bool } },
};
/** `PipelineProcess`. */
export const PIPELINE_PROCESS: MessageDescriptor = {
  name: 'PipelineProcess',
  fields: {
    name: { type: t.string },
    retryStrategy: { type: t.msg(() => RETRY_STRATEGY) },
    instrumentation: { type: t.msg(() => INSTRUMENTATION) },
  },
};
/** `Pipeline`. */
export const PIPELINE: MessageDescriptor = {
  name: 'Pipeline',
  fields: {
    name: { type: t.string },
    processes: { type: t.msg(() => PIPELINE_PROCESS), repeated: true },
    checkpoint: { type: t.msg(() => ({ name: 'Checkpoint', fields: { outputConnectorRef: { type: t.string } } })) },
    enableTracing: { type: t.bool },
    enableMetrics: { type: t.bool },
  },
};
/** `ExternalType`. */
export const EXTERNAL_TYPES = {
  ExternalUnknown: 0,
  ExternalKVStore: 1,
  ExternalObjectStore: 2,
  ExternalPubSub: 3,
  ExternalHttp: 4,
  ExternalLocalFile: 5,
  ExternalSearchIndex: 6,
};
/** `External`. */
export const EXTERNAL: MessageDescriptor = {
  name: 'External',
  fields: { externalType: { type: t.enum(EXTERNAL_TYPES) }, name: { type: t.string }, connectionString: { type: t.string } },
};
/** `Pipelines`: a whole agglo config. */
export const PIPELINES: MessageDescriptor = {
  name: 'Pipelines',
  fields: {
    partitionUuid: { type: t.string },
    pipelines: { type: t.msg(() => PIPELINE), repeated: true },
    processDefinitions: { type: t.msg(() => PROCESS_DEFINITION), repeated: true },
    externalSystems: { type: t.msg(() => EXTERNAL), repeated: true },
  },
};
