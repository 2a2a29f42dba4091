import type { Event } from '../../event';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { connectionFields, requiredOptionOrEnv } from '../fields';
import { httpSinkCommonOptions } from './deliver';
import { httpSinkNode, parseHttpUrl } from './webhook';

/** The message text of an alert sink (`slack`, `telegram`) from the payload. */
export const messageTextField = opt.fn<(payload: any, event: Event) => string>(
  '(payload, event) => message text (default: strings as is, anything else as JSON)',
);

/** The options of {@link slack}, declared once: types, validation, defaults and docs come from here. */
export const slackOptions = {
  url: connectionFields.url.describe('incoming-webhook URL, a secret (default: the variable named by urlEnv)'),
  urlEnv: opt.string('environment variable holding the URL').withDefault('SLACK_WEBHOOK_URL'),
  text: messageTextField,
  ...httpSinkCommonOptions,
};

/** Options of {@link slack}. */
export type SlackOptions = InputOf<typeof slackOptions>;

/**
 * Default message text: strings as they are, anything else as compact JSON.
 *
 * @example
 * ```ts
 * defaultText({ a: 1 }); // '{"a":1}'
 * ```
 */
export function defaultText(payload: unknown): string {
  return typeof payload === 'string' ? payload : (JSON.stringify(payload) ?? String(payload));
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
export const slack = defineNode({
  name: 'slack',
  io: 'network',
  role: 'sink',
  summary: 'Posts each event to a Slack incoming webhook as {"text": …}; acks after a 2xx.',
  options: slackOptions,
  positional: ['url'],
  example: "net.add('to_slack', connectors.slack({ text: (a: any) => `liability ${a.liability} for ${a.customer}` }));",
  luaExample: 'tb.create_slack("to_slack", "https://hooks.slack.com/services/T000/B000/XXXX")',
  build: (o) => {
    const raw = requiredOptionOrEnv('slack', 'url', o.url, o.urlEnv);
    const url = parseHttpUrl('slack', 'url', raw, '<hidden>');
    const make = o.text ?? defaultText;
    return httpSinkNode(
      'slack',
      o,
      {
        url: url.href,
        secrets: [url.pathname, url.search].filter((s) => s.length > 1),
        display: `${url.protocol}//${url.host}/<webhook path hidden>`,
      },
      (e) => JSON.stringify({ text: make(e.payload, e) }),
    );
  },
});
