import type { OperatorFunction } from 'rxjs';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import type { NodeContext, PipelineNode } from '../nodes/types';
import { aggregator, type AggregateSettings, type Aggregator } from './aggregate';
import type { EngineEnv, WindowEngine } from './engine';
import { keyId } from './fields';
import { windowOperator, type ShellSettings } from './operator';

/** Everything a window kind's `build` receives from the shared fields. */
export type WindowSettings = ShellSettings & AggregateSettings;

/**
 * Builds the pipeline node of an event-time window kind: checks the shared options (errors
 * name the kind and the option), makes the aggregator once, and per start the operator
 * around a fresh engine.
 *
 * @example
 * ```ts
 * build: (o) => windowNode('tumbling_window', o, (env, agg) => keyedWindows({ kind: 'aligned', size: o.size, advance: o.size }, agg, env, keyId)),
 * ```
 */
export function windowNode(
  kind: string,
  o: WindowSettings,
  makeEngine: (env: EngineEnv, agg: Aggregator, idOf: (k: unknown) => unknown) => WindowEngine,
): PipelineNode {
  const where = `node kind '${kind}'`;
  aggregator(o, where); // bad combinations fail when the node is made, not at start
  if (o.time === 'processing') {
    for (const name of ['timeField', 'idleTimeout'] as const) {
      if (o[name] !== undefined)
        throw new TributaryError(
          'BAD_OPTION',
          `${where}: option '${name}' is for event time; with time 'processing' windows follow the scheduler`,
        );
    }
  }
  if (o.key !== undefined && typeof o.key !== 'string' && typeof o.key !== 'function')
    throw new TributaryError('BAD_OPTION', `${where}: option 'key' must be a payload path or a function, got ${typeof o.key}`);
  return {
    role: 'pipeline',
    kind,
    create: (ctx: NodeContext): OperatorFunction<Event, Event> => {
      // Per-event errors (a value that is not a number, a full collect window) name the node.
      const agg = aggregator(o, `node '${ctx.name}'`);
      return windowOperator(ctx, o, (env) => makeEngine(env, agg, keyId));
    },
  };
}
