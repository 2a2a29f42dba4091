/**
 * A third-party-style Tributary plugin: what a package such as `tributary-plugin-sensors`
 * would export. It adds one node kind (`sensor_threshold`) with typed, validated options and
 * one Lua function (`threshold_to`). Load it with
 *
 *   tributary run net.lua --plugin ./examples/plugin/index.ts      (or an npm package name)
 *   new Network({ plugins: [sensorsPlugin] })                       (TypeScript)
 */
import { defineNode, definePlugin, nodes, opt } from 'tributary';

/** What `sensor_threshold` adds to a reading that passes its limit. */
export interface ThresholdAlert {
  field: string;
  value: number;
  limit: number;
  label: string;
}

/**
 * Pipeline letting through only readings whose `field` is above `limit`, each annotated
 * with an `alert`; other readings are dropped (and acked: dropping is their work done).
 */
export const sensorThreshold = defineNode({
  name: 'sensor_threshold',
  role: 'pipeline',
  summary: 'Passes readings whose field is above a limit, annotated with an alert (sensors plugin).',
  options: {
    field: opt.string('payload field holding the reading, e.g. "temperature"').require(),
    limit: opt.number('readings above this pass').require(),
    label: opt.string('what the alert says').withDefault('over limit'),
  },
  positional: ['field', 'limit'],
  example: "net.add('hot', sensorThreshold({ field: 'temperature', limit: 30 }));",
  luaExample: 'tb.create_sensor_threshold("hot", "temperature", 30)',
  build: ({ field, limit, label }) => ({
    // A kind may build on another: a flatmap to zero or one payload (dropped readings are acked).
    ...nodes.flatmap({
      fn: (reading: unknown) => {
        const value = reading !== null && typeof reading === 'object' ? (reading as Record<string, unknown>)[field] : undefined;
        if (typeof value !== 'number' || value <= limit) return [];
        const alert: ThresholdAlert = { field, value, limit, label };
        return [{ ...(reading as object), alert }];
      },
    }),
    kind: 'sensor_threshold',
  }),
});

/**
 * The plugin: the kind, and a Lua function that creates a threshold node and links it to an
 * output in one call — `tb.threshold_to("hot", "temperature", 30, "alerts")`.
 */
export const sensorsPlugin = definePlugin({
  name: 'sensors',
  kinds: [sensorThreshold],
  luaExports: {
    threshold_to: (host) => (name: string, field: string, limit: number, out: string) => {
      if (host.create) host.create('sensor_threshold', name, { field, limit });
      else host.network.create('sensor_threshold', name, { field, limit });
      host.network.link(name, out);
      return true;
    },
  },
});

export default sensorsPlugin;
