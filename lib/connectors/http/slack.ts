import { TributaryError } from '../../errors';
import type { Event } from '../../event';
import { defineNode } from '../../nodes/registry';
import { httpSinkCommonOptions, type HttpSinkCommon, type HttpSinkCommonResolved } from './deliver';
import { httpSinkNode, parseHttpUrl, targetTiming } from './webhook';

/** Options of {@link slack}. */
export interface SlackOptions extends HttpSinkCommon {
  /** The incoming-webhook URL; default the environment variable named by `urlEnv`. */
  url?: string;
  /** Environment variable holding the URL (default `SLACK_WEBHOOK_URL`). */
  urlEnv?: string;
  /** The message text from the payload; default: a string payload as is, anything else as JSON. */
  text?: (payload: any, event: Event) => string;
}

export interface Resolved extends HttpSinkCommonResolved {
  url?: string;
  urlEnv: string;
  text?: (payload: unknown, event: Event) => string;
}

/**
 * Default message text: strings as they are, anything else as compact JSON.
 *
 * @example
 * ```ts
 * defaultText({ a: 1 }); // '{"a":1}'
 * ```
 */
export function defaultText(payload: unknown): string {
  return typeof payload === 'string' ? payload : JSON.stringify(payload) ?? String(payload);
}

/**
 * Sink posting each event to a Slack incoming webhook as `{"text": …}`, with the webhook
 * sink's retries, back-off and dead-lettering. The URL (a secret: its path is the token)
 * comes from `SLACK_WEBHOOK_URL` by default and is shown as its host only in messages.
 *
 * @example
 * ```ts
 * net.add('to_slack', connectors.slack({ text: (a) => `:rotating_light: ${a.customer} liability ${a.liability}` }));
 * ```
 */
export const slack = defineNode<SlackOptions, Resolved>({
  name: 'slack',
  io: 'network',
  role: 'sink',
  summary: 'Posts each event to a Slack incoming webhook as {"text": …}; acks after a 2xx.',
  options: {
    url: { type: 'string', description: 'incoming-webhook URL (default: the variable named by urlEnv)' },
    urlEnv: { type: 'string', default: 'SLACK_WEBHOOK_URL', description: 'environment variable holding the URL' },
    text: { type: 'function', description: '(payload, event) => message text (default: strings as is, anything else as JSON)' },
    ...httpSinkCommonOptions,
  },
  positional: ['url'],
  example: "net.add('to_slack', connectors.slack({ text: (a: any) => `liability ${a.liability} for ${a.customer}` }));",
  luaExample: 'tb.create_slack("to_slack", "https://hooks.slack.com/services/T000/B000/XXXX")',
  build: (o) => {
    const raw = o.url ?? process.env[o.urlEnv];
    if (!raw) {
      throw new TributaryError('BAD_OPTION', `node kind 'slack': give option 'url' or set the environment variable ${o.urlEnv}`);
    }
    const url = parseHttpUrl('slack', 'url', raw, '<hidden>');
    const make = o.text ?? defaultText;
    return httpSinkNode(
      'slack',
      {
        url: url.href,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...targetTiming(o),
        secrets: [url.pathname, url.search].filter((s) => s.length > 1),
        display: `${url.protocol}//${url.host}/<webhook path hidden>`,
      },
      o,
      (e) => JSON.stringify({ text: make(e.payload, e) }),
    );
  },
});
