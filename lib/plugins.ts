// The composition root of the built-in plugins: the only module that knows every family.
// The core never imports it; the CLI does, and so may users who want everything.
import { lazyPlugin, type LazyPlugin } from './nodes/plugin';
import type { WindowsPluginOptions } from './windows/plugin';

/** Options of {@link builtinPlugins}. */
export interface BuiltinPluginOptions {
  /** Window store options (`url`, `entities` …); read when a network first opens the store. */
  windows?: WindowsPluginOptions;
}

/**
 * Every built-in family as a lazy plugin — SQL windows, event-time windows, HTTP, NATS, AMQP, MQTT, Redis, files/stdio —
 * each loaded only when one of its kinds, Lua functions or services is first used. Each
 * entry names what its plugin offers; the registry checks the loaded plugin against it.
 * Adding a connector: one folder with its kinds and a `plugin.ts`, one entry here.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: builtinPlugins({ windows: { url: 'sqlite:./tb.db' } }) });
 * net.create('webhook', 'out', { url: 'http://127.0.0.1:8080/hook' }); // loads the http plugin
 * ```
 */
export function builtinPlugins(options: BuiltinPluginOptions = {}): LazyPlugin[] {
  const windows = (options.windows ??= {});
  /* eslint-disable @typescript-eslint/no-require-imports -- loading on first use is the point */
  return [
    lazyPlugin({
      name: 'windows',
      kinds: ['aggregate_window', 'count_window', 'filter', 'query_window', 'time_window', 'window'],
      luaExports: ['declare_table', 'query_window', 'sliding_window_count', 'sliding_window_time', 'window_driver'],
      services: ['tributary.windows'],
      load: () => (require('./windows/plugin') as typeof import('./windows/plugin')).windowsPlugin(windows),
    }),
    lazyPlugin({
      name: 'eventtime',
      kinds: ['hopping_window', 'session_window', 'sliding_window', 'tumbling_window'],
      load: () => (require('./eventtime/plugin') as typeof import('./eventtime/plugin')).eventTimePlugin,
    }),
    lazyPlugin({
      name: 'http',
      kinds: ['http_source', 'slack', 'telegram', 'webhook'],
      load: () => (require('./connectors/http/plugin') as typeof import('./connectors/http/plugin')).httpPlugin,
    }),
    lazyPlugin({
      name: 'nats',
      kinds: ['nats_sink', 'nats_source'],
      load: () => (require('./connectors/nats/plugin') as typeof import('./connectors/nats/plugin')).natsPlugin,
    }),
    lazyPlugin({
      name: 'amqp',
      kinds: ['amqp_sink', 'amqp_source'],
      load: () => (require('./connectors/amqp/plugin') as typeof import('./connectors/amqp/plugin')).amqpPlugin,
    }),
    lazyPlugin({
      name: 'mqtt',
      kinds: ['mqtt_sink', 'mqtt_source'],
      load: () => (require('./connectors/mqtt/plugin') as typeof import('./connectors/mqtt/plugin')).mqttPlugin,
    }),
    lazyPlugin({
      name: 'redis',
      kinds: ['redis_pubsub_sink', 'redis_pubsub_source', 'redis_stream_sink', 'redis_stream_source'],
      load: () => (require('./connectors/redis/plugin') as typeof import('./connectors/redis/plugin')).redisPlugin,
    }),
    lazyPlugin({
      name: 'state',
      kinds: ['stateful'],
      load: () => (require('./state/plugin') as typeof import('./state/plugin')).statePlugin,
    }),
    lazyPlugin({
      name: 'eventstore',
      kinds: ['eventstore_archiver', 'eventstore_discarder', 'eventstore_sink', 'eventstore_source'],
      load: () => (require('./eventstore/plugin') as typeof import('./eventstore/plugin')).eventstorePlugin,
    }),
    lazyPlugin({
      name: 'entwine',
      kinds: ['entwine'],
      load: () => (require('./entwine/plugin') as typeof import('./entwine/plugin')).entwinePlugin,
    }),
    lazyPlugin({
      name: 'serve',
      kinds: ['reply'],
      load: () => (require('./serve/reply') as typeof import('./serve/reply')).servePlugin,
    }),
    lazyPlugin({
      name: 'file',
      kinds: ['file_sink', 'file_source', 'stdin_source', 'stdout_sink'],
      load: () => (require('./connectors/file/plugin') as typeof import('./connectors/file/plugin')).filePlugin,
    }),
    lazyPlugin({
      name: 'agglo',
      kinds: ['agglo_filter', 'agglo_ingest', 'aggregate', 'annotate', 'complete', 'continue', 'spawn', 'tee', 'tee_payload', 'transform'],
      services: ['agglo.state'],
      load: () => (require('./agglo/plugin') as typeof import('./agglo/plugin')).aggloPlugin,
    }),
  ];
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** What `--require` host modules of the `tributary` command receive and export. */
export type { HostContext, HostModule, WindowConfig } from './cli/hosts';
