import { pino, type Logger as PinoLogger } from 'pino';
import { redactCredentials, shownUrl } from '../util/redact';

/** The levels `--log-level` accepts, most verbose first (`silent` logs nothing). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** The level `tributary run` logs at without `--log-level`: a clean run prints nothing. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

/** The formats `--log-format` accepts: `auto` is `pretty` on a terminal, `json` otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where log lines go: the process's stderr, or a test's collector (`isTTY` picks the format). */
export interface LogStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  /** Default {@link DEFAULT_LOG_LEVEL}. */
  level?: LogLevel;
  /** Default `auto`: readable lines when `stream.isTTY`, JSON lines otherwise. */
  format?: LogFormat;
  stream: LogStream;
  /** Strings never to print (a password from `--db`); every line is also passed through `redactCredentials`. */
  secrets?: readonly string[];
  /** Wall-clock time of a line, in ms since the epoch; default `Date.now`. */
  now?: () => number;
  /** Colours in readable lines; default when the stream is a terminal and `NO_COLOR` is unset. */
  color?: boolean;
}

/**
 * Fields whose values are secrets wherever they appear in a line's object (one level deep
 * too): pino's `redact` replaces them. `url` fields keep the URL with its password hidden.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'token',
  'secret',
  'apiKey',
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'url',
].flatMap((p) => [p, `*.${p}`]);

function censor(value: unknown, path: string[]): unknown {
  if (path[path.length - 1] === 'url' && typeof value === 'string') return shownUrl(value);
  return '[redacted]';
}

/**
 * The logger `tributary run` gives its network: pino, JSON lines (`level` as its name, `time`
 * in ISO 8601) when the stream is not a terminal, readable lines on a terminal. Lines of a
 * node carry `node` and `kind` (the network makes a child per node). Secrets are removed
 * twice: fields named like secrets by pino's `redact` ({@link REDACT_PATHS}), and every line
 * as written by `redactCredentials` (URL passwords, bearer tokens, `token=…`) plus `secrets`.
 *
 * @example
 * ```ts
 * const logger = createCliLogger({ level: 'info', stream: process.stderr });
 * const net = new Network({ logger });
 * ```
 */
export function createCliLogger(options: CliLoggerOptions): PinoLogger {
  const format = options.format === undefined || options.format === 'auto' ? (options.stream.isTTY ? 'pretty' : 'json') : options.format;
  const now = options.now ?? Date.now;
  const secrets = options.secrets ?? [];
  const stream = options.stream;
  const color = options.color ?? (stream.isTTY === true && !process.env.NO_COLOR);
  const destination =
    format === 'json'
      ? { write: (line: string) => void stream.write(line) }
      : { write: (line: string) => void stream.write(prettyLine(line, color)) };
  return pino(
    {
      level: options.level ?? DEFAULT_LOG_LEVEL,
      timestamp: () => `,"time":${JSON.stringify(new Date(now()).toISOString())}`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor },
      hooks: { streamWrite: (line) => redactCredentials(line, secrets) },
    },
    destination,
  );
}

/** SGR codes that turn a level's colour on; `39` turns it off. */
const LEVEL_COLOURS: Record<string, string> = {
  trace: '90',
  debug: '36',
  info: '32',
  warn: '33',
  error: '31',
  fatal: '35',
};

/** Fields every line has, shown in a readable line's fixed places (or not at all). */
const PLACED = new Set(['level', 'time', 'pid', 'hostname', 'node', 'kind', 'msg', 'err']);

/**
 * One pino JSON line as a readable line: local time, level, `[node kind]`, the message, other
 * fields as `key=value`, and an error's stack indented below. A line that is not JSON is
 * passed on as it is.
 *
 * @example
 * ```ts
 * prettyLine('{"level":"warn","time":"2026-01-02T03:04:05.006Z","node":"bets","kind":"file_source","msg":"slow"}\n', false);
 * // '04:04:05.006 WARN  [bets file_source] slow\n' (in a UTC+1 zone)
 * ```
 */
export function prettyLine(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const paint = (on: string | undefined, off: string, text: string) => (color && on ? `\x1b[${on}m${text}\x1b[${off}m` : text);
  const level = String(o.level ?? '');
  const parts: string[] = [];
  if (typeof o.time === 'string' || typeof o.time === 'number') parts.push(clock(new Date(o.time)));
  parts.push(paint(LEVEL_COLOURS[level], '39', level.toUpperCase().padEnd(5)));
  if (o.node !== undefined) parts.push(paint('1', '22', `[${[o.node, o.kind].filter((x) => x !== undefined).join(' ')}]`));
  if (o.msg !== undefined) parts.push(String(o.msg));
  for (const [k, v] of Object.entries(o)) if (!PLACED.has(k)) parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  let text = parts.join(' ');
  const err = o.err as { stack?: unknown; message?: unknown } | undefined;
  if (err && typeof err === 'object') {
    const detail = typeof err.stack === 'string' ? err.stack : String(err.message ?? '');
    text += '\n' + detail.replace(/^/gm, '    ');
  }
  return text + '\n';
}

function clock(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
