import { definePlugin } from '../../nodes/plugin';
import { httpSource } from './source';
import { slack } from './slack';
import { telegram } from './telegram';
import { webhook } from './webhook';

/**
 * HTTP connectors as a plugin: `webhook`, `slack`, `telegram` (sinks) and `http_source`.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [httpPlugin] });
 * net.create('webhook', 'alerts_out', { url: 'http://127.0.0.1:8080/alerts' });
 * ```
 */
export const httpPlugin = definePlugin({ name: 'http', kinds: [webhook, slack, telegram, httpSource] });
