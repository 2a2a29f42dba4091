import { isObservable, tap, type Observable } from 'rxjs';
import type { Duration } from '../duration';
import { TributaryError } from '../errors';
import { isNetworkFile, loadNetworkFile, loadNetworkText } from '../declarative/load';
import { LuaRuntime } from '../lua/runtime';
import { observable as observableNode } from '../nodes/adapters';
import { Network, type NetworkReport } from '../network/network';
import type { LazyPlugin, Plugin } from '../nodes/plugin';
import type { Registry } from '../nodes/registry';
import type { Logger, NodeSpec, SinkNode } from '../nodes/types';
import { VirtualTime, recorder, textRecorder, type MarbleSink } from './index';

/**
 * A marble input replacing a source node of the script: a diagram (with values), or any
 * observable of payloads, such as `m.cold(…)`/`m.hot(…)` in an rxjs-marbles test.
 */
export type MarbleInput = string | { marbles: string; values?: Record<string, unknown>; error?: unknown } | Observable<unknown>;

/** What {@link luaScenario} needs: the script(s) and how to feed and observe them. */
export interface LuaScenarioOptions {
  /**
   * Script text, run as `name` (default `script.lua`); with a `name` ending `.yaml`, `.yml`
   * or `.json` it is a declarative network file instead (see `docs/pipelines.md`).
   */
  source?: string;
  name?: string;
  /** Script files (or declarative network files), run in order after `source` on the same VM and network. */
  files?: string[];
  /** Where a declarative file's `${VAR}` references are looked up; default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Sources of the script to replace by marble inputs, by node name: the script's
   * `create_ticker("ticker_500ms", …)` then builds a marble source instead.
   */
  inputs?: Record<string, MarbleInput>;
  /** Nodes added before the script runs, for scripts that link to host-provided nodes. */
  nodes?: Record<string, NodeSpec | Observable<unknown>>;
  /** Module exports, as `runtime.export(name, fn)`. */
  exports?: Record<string, (...args: any[]) => unknown>;
  /** Node kinds available to the script; default the core kinds (see `plugins`). */
  registry?: Registry;
  /** Plugins the script may use, e.g. `builtinPlugins()` from 'tributary/plugins' or your own. */
  plugins?: readonly (Plugin | LazyPlugin)[];
  /** Default true. */
  sandbox?: boolean;
  /** Where the network reports problems (sink failures, error events at sinks); default stderr. */
  logger?: Logger;
  /** Reuse a clock, e.g. to compare with a code-built network; `new VirtualTime(m.scheduler)` in an rxjs-marbles test. */
  time?: VirtualTime;
  /** Seed of the script's `math.random` (default 0: the same numbers every run). */
  seed?: number;
}

/** A script-built (or file-built) network on a virtual clock, with its sinks recorded. */
export interface LuaScenario {
  readonly time: VirtualTime;
  readonly network: Network;
  readonly runtime: LuaRuntime;
  /** Everything `print` and printing nodes (`tester`, `printer`) wrote, with frames. */
  readonly output: ReturnType<typeof textRecorder>;
  /** Every sink the script created, by name: payloads with frames (error events as `{ error }`). */
  readonly sinks: Record<string, MarbleSink>;
  /** Runs the network for a virtual duration, drains it, closes the runtime; returns the report. */
  run(duration: Duration): NetworkReport;
  /**
   * Starts the network without flushing, inside a running `TestScheduler.run` (an
   * rxjs-marbles test): stopped and drained at `duration` if given; the runtime closes once
   * the network stopped.
   */
  start(duration?: Duration): void;
  /** Asserts a sink saw exactly the marble diagram. */
  expectFrames(sink: string, marbles: string, values?: Record<string, unknown>): void;
}

/**
 * Runs Lua scripts on a virtual clock: sources named in `inputs` become marble sources,
 * every sink is recorded, and `print`/`tester` output is captured with frames. Nothing
 * sleeps; the network runs under the RxJS `TestScheduler`.
 *
 * @example
 * ```ts
 * const s = luaScenario({
 *   source: `local tb = require('tributary')
 *            tb.create_ticker("in", "1s")
 *            tb.create_map("double", function(n) return n * 2 end)
 *            tb.create_sink("out", function(n) end)
 *            tb.link("in", "double") tb.link("double", "out")`,
 *   inputs: { in: { marbles: '-a-b|', values: { a: 1, b: 2 } } },
 * });
 * s.run('10ms');
 * s.expectFrames('out', '-a-b|', { a: 2, b: 4 });
 * ```
 */
export function luaScenario(options: LuaScenarioOptions): LuaScenario {
  const time = options.time ?? new VirtualTime();
  const network = new Network({ scheduler: time.scheduler, registry: options.registry, plugins: options.plugins, logger: options.logger });
  const output = textRecorder(time.scheduler);
  const sinks: Record<string, MarbleSink> = {};
  const inputs = new Map(Object.entries(options.inputs ?? {}));
  const used = new Set<string>();
  for (const [name, node] of Object.entries(options.nodes ?? {})) network.add(name, node);

  const runtime = new LuaRuntime(network, {
    sandbox: options.sandbox,
    stdout: output,
    // Deterministic: os.time/os.clock/os.date read the virtual clock, math.random is seeded,
    // and the endless-loop guards count instructions instead of reading the wall clock.
    clock: () => time.scheduler.now(),
    randomSeed: options.seed ?? 0,
    budgetClock: instructionClock(),
    onCreate: ({ name, kind, spec }) => {
      const input = inputs.get(name);
      if (input !== undefined) {
        if (kind.role !== 'source') {
          throw new TributaryError(
            'BAD_OPTION',
            `test input '${name}' can only replace a source, but the script creates a ${kind.role} (${kind.name})`,
          );
        }
        used.add(name);
        if (isObservable(input)) return observableNode(input);
        const m = typeof input === 'string' ? { marbles: input } : input;
        return time.source(m.marbles, m.values, m.error);
      }
      if (spec.role === 'sink') {
        const recorded = recordSink(time, spec);
        sinks[name] = recorded;
        return recorded.node;
      }
    },
  });
  for (const [name, fn] of Object.entries(options.exports ?? {})) runtime.export(name, fn);
  try {
    const build = { runtime, ...(options.env ? { env: options.env } : {}) };
    if (options.source !== undefined) {
      const name = options.name ?? 'script.lua';
      if (isNetworkFile(name)) loadNetworkText(network, options.source, name, build);
      else runtime.runString(options.source, name);
    }
    for (const file of options.files ?? []) {
      if (isNetworkFile(file)) loadNetworkFile(network, file, build);
      else runtime.runFile(file);
    }
    const unused = [...inputs.keys()].filter((n) => !used.has(n));
    if (unused.length > 0) {
      throw new TributaryError(
        'BAD_OPTION',
        `test inputs ${unused.map((n) => `'${n}'`).join(', ')} name no source the script created (use nodes: for host-provided nodes)`,
      );
    }
  } catch (e) {
    runtime.close();
    throw e;
  }

  return {
    time,
    network,
    runtime,
    output,
    sinks,
    run(duration) {
      try {
        return time.run(network, duration);
      } finally {
        runtime.close();
      }
    },
    start(duration) {
      time.start(network, duration);
      void network.done().then(() => runtime.close());
    },
    expectFrames(sink, marbles, values) {
      const recorded = sinks[sink];
      if (!recorded) throw new Error(`no recorded sink '${sink}' (sinks: ${Object.keys(sinks).join(', ') || 'none'})`);
      time.expectFrames(recorded, marbles, values);
    },
  };
}

/** Wraps a sink so every event reaching it is recorded with its frame before it is handled. */
function recordSink(time: VirtualTime, inner: SinkNode): MarbleSink {
  const rec = recorder(time.scheduler);
  const record: MarbleSink = Object.assign(rec, {
    node: {
      role: 'sink',
      kind: inner.kind,
      create: (ctx) => {
        const handle = inner.create(ctx);
        return (source) =>
          handle(
            source.pipe(
              tap({
                next: (e) => rec.note(e),
                complete: () => rec.done(),
              }),
            ),
          );
      },
    } satisfies SinkNode,
  });
  return record;
}

/**
 * A clock for the Lua runtime's endless-loop guards that advances 1 ms per look (the guards
 * look every 1000 or 10 000 instructions): the limits then count instructions, so whether a
 * script is stopped never depends on how loaded the machine is.
 *
 * @example
 * ```ts
 * new LuaRuntime(net, { budgetClock: instructionClock() });
 * ```
 */
export function instructionClock(): () => number {
  let ticks = 0;
  return () => ticks++;
}
