import { errorMessage, TributaryError } from '../errors';
import { defineNode } from '../nodes/registry';
import { compileCondition } from './condition';
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
import { SPAWNER, type ProtoMessage } from './proto';
import { DEFAULT_EXEC_TIMEOUT_MS } from './transform';

/** The key of the list of spawn results agglo adds to the event. */
export const SPAWN_OUTPUT_KEY = 'internal:spawn:output';

/** The options of {@link spawn}: agglo's `Spawner` message plus `retryStrategy` and `timeoutMs`. */
export const SPAWN_OPTIONS = withFields(SPAWNER, {
  retryStrategy: RETRY_FIELD,
  timeoutMs: {
    type: { kind: 'int64' },
    description: 'longest the executable may run, in ms, then it is killed (Tributary; default 30000; 0: no limit)',
  },
});

/**
 * Process node running an executable with the event as JSON on stdin when its condition
 * holds, after `delayInMs`. With `doSync` it waits and appends `{ <name>: <stdout as JSON> }`
 * to `internal:spawn:output` (a failure, a non-zero exit or the timeout is the event's error);
 * without, it starts the program and passes the event on at once (failures are logged).
 * Refused unless the network allows exec (`new Network({ allowExec: true })`, `--allow-exec`).
 *
 * @example
 * ```ts
 * net.add('enrich', agglo.spawn({ name: 'enrich', doSync: true, job: { runnable: { pathToExec: './enrich.sh', cmdArgs: ['-v'] } } }));
 * ```
 */
export const spawn = defineNode({
  name: 'spawn',
  role: 'pipeline',
  io: 'files',
  summary: "agglo's spawner: runs an executable with the event as JSON on stdin (sync: its JSON output is recorded). Needs allowExec.",
  options: protoOptions(SPAWN_OPTIONS, {
    name: 'the process name: the key of its result in internal:spawn:output (default: the node name)',
    condition: 'agglo condition; the program runs only when it holds',
    delayInMs: 'wait this long before starting the program, in ms',
    doSync: 'true: wait for the program and record its JSON output; false: start it and go on',
    job: '{ runnable: { pathToExec, cmdArgs } }',
  }),
  positional: [],
  example: "net.add('enrich', agglo.spawn({ doSync: true, job: { runnable: { pathToExec: '/usr/bin/jq', cmdArgs: ['{n: 1}'] } } }));",
  luaExample: 'tb.create_spawn("notify", { job = { runnable = { pathToExec = "/usr/local/bin/notify" } } })',
  build: (options) => {
    const msg = readProcessOptions('spawn', SPAWN_OPTIONS, options);
    const condition = located('spawn', msg, () => compileCondition(msg.condition, 'condition'));
    const runnable = ((msg.job as ProtoMessage | undefined)?.runnable as ProtoMessage | undefined) ?? {};
    const pathToExec = runnable.pathToExec as string | undefined;
    if (!pathToExec)
      throw new TributaryError('BAD_OPTION', `spawn${msg.name ? ` '${String(msg.name)}'` : ''}: job.runnable.pathToExec: is required`);
    const args = (runnable.cmdArgs as string[] | undefined) ?? [];
    const delay = msg.delayInMs as number;
    if (delay < 0) throw new TributaryError('BAD_OPTION', `spawn: delayInMs must be at least 0, got ${delay}`);
    const timeoutMs = (msg.timeoutMs as number) || (options.timeoutMs === 0 ? 0 : DEFAULT_EXEC_TIMEOUT_MS);
    return processNode('spawn', retryOf(msg), (ctx) => {
      requireExec(ctx, 'spawn');
      const name = (msg.name as string) || ctx.name;
      const run = async (input: AggloMap): Promise<unknown> => {
        if (delay > 0) await new Promise<void>((resolve) => ctx.scheduler.schedule(() => resolve(), delay));
        return runJson(input, { path: pathToExec, args, timeoutMs, scheduler: ctx.scheduler });
      };
      if (msg.doSync !== true) {
        return (payload) => {
          const out = deepCopy(payload);
          if (condition.test(out)) {
            run(deepCopy(out)).catch((e: unknown) =>
              ctx.logger.warn(`node '${ctx.name}': spawned ${pathToExec} failed: ${errorMessage(e)}`),
            );
          }
          return out;
        };
      }
      return async (payload) => {
        const out = deepCopy(payload);
        if (!condition.test(out)) return out;
        const existing = out[SPAWN_OUTPUT_KEY];
        if (existing !== undefined && !Array.isArray(existing)) throw new Error(`'${SPAWN_OUTPUT_KEY}' is corrupted: expected a list`);
        const result = await run(deepCopy(payload));
        out[SPAWN_OUTPUT_KEY] = [...((existing as unknown[] | undefined) ?? []), { [name]: result }];
        return out;
      };
    });
  },
});
