import { definePlugin } from '../../nodes/plugin';
import { mqttSink } from './sink';
import { mqttSource } from './source';

/**
 * MQTT (MQTT 5: Mosquitto, EMQX, HiveMQ …) as a plugin: `mqtt_source` and `mqtt_sink`. The
 * `mqtt` client loads when a node starts, not with the plugin.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [mqttPlugin] });
 * net.create('mqtt_source', 'readings', { topic: 'sensors/#', qos: 1 });
 * ```
 */
export const mqttPlugin = definePlugin({ name: 'mqtt', kinds: [mqttSource, mqttSink] });
