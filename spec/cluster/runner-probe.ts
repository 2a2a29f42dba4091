// A plugin for the runner specs: a source emitting the network's ctx.partition once, and a
// sink collecting payloads into a list the spec reads (shared through globalThis, since the
// runner loads this file as a --plugin module).
import { concat, NEVER, of } from 'rxjs';
import { defineNode, definePlugin, nodes, opt } from '../../lib/index';

/** Payloads the probe sinks received, by sink name. */
export const collected: Record<string, unknown[]> = ((globalThis as { __runnerProbe?: Record<string, unknown[]> }).__runnerProbe ??= {});

const partitionSource = defineNode({
  name: 'partition_source',
  role: 'source',
  summary: 'Emits ctx.partition (or null) once, then ends (or with stay = true stays open).',
  options: { stay: opt.boolean('stay open after the one event') },
  positional: [],
  example: '',
  build: (o) => ({
    role: 'source',
    kind: 'partition_source',
    create: (ctx) => (o.stay ? concat(of(ctx.event(ctx.partition ?? null)), NEVER) : of(ctx.event(ctx.partition ?? null))),
  }),
});

const probeSink = defineNode({
  name: 'probe_sink',
  role: 'sink',
  summary: 'Collects payloads into collected[list].',
  options: { list: opt.string('the list to collect into').require() },
  positional: ['list'],
  example: '',
  build: (o) => ({ ...nodes.sink({ fn: (p: unknown) => void (collected[o.list] ??= []).push(p) }), kind: 'probe_sink' }),
});

export default definePlugin({ name: 'runner-probe', kinds: [partitionSource, probeSink] });
