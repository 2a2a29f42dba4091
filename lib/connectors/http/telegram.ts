import { TributaryError } from '../../errors';
import type { Event } from '../../event';
import { defineNode } from '../../nodes/registry';
import { httpSinkCommonOptions, type HttpSinkCommon, type HttpSinkCommonResolved } from './deliver';
import { defaultText } from './slack';
import { httpSinkNode, parseHttpUrl, targetTiming } from './webhook';

/** Options of {@link telegram}. */
export interface TelegramOptions extends HttpSinkCommon {
  /** Bot token; default the environment variable named by `tokenEnv`. Never logged. */
  token?: string;
  /** Environment variable holding the token (default `TELEGRAM_BOT_TOKEN`). */
  tokenEnv?: string;
  /** Chat id; default the environment variable named by `chatIdEnv`. */
  chatId?: string | number;
  /** Environment variable holding the chat id (default `TELEGRAM_CHAT_ID`). */
  chatIdEnv?: string;
  /** Bot API base URL (default `https://api.telegram.org`; point it at a local server in tests). */
  baseUrl?: string;
  /** The message text from the payload; default: a string payload as is, anything else as JSON. */
  text?: (payload: any, event: Event) => string;
  /** Telegram `parse_mode` (`MarkdownV2`, `HTML`); default plain text. */
  parseMode?: string;
}

export interface Resolved extends HttpSinkCommonResolved {
  token?: string;
  tokenEnv: string;
  chatId?: string | number;
  chatIdEnv: string;
  baseUrl: string;
  text?: (payload: unknown, event: Event) => string;
  parseMode?: string;
}

/**
 * Sink sending each event as a Telegram message through the Bot API `sendMessage`, with the
 * webhook sink's retries (429 honours `Retry-After`), back-off and dead-lettering. The token
 * and chat id come from `TELEGRAM_BOT_TOKEN` and `TELEGRAM_CHAT_ID` by default; the token
 * never appears in logs, errors or error events (it is shown as `<redacted>`).
 *
 * @example
 * ```ts
 * net.add('to_telegram', connectors.telegram({ text: (a) => `Liability alert: ${a.customer} at ${a.liability}` }));
 * ```
 */
export const telegram = defineNode<TelegramOptions, Resolved>({
  name: 'telegram',
  io: 'network',
  role: 'sink',
  summary: 'Sends each event as a Telegram message (Bot API sendMessage); the token never appears in logs or errors.',
  options: {
    token: { type: 'string', description: 'bot token (default: the variable named by tokenEnv); never logged' },
    tokenEnv: { type: 'string', default: 'TELEGRAM_BOT_TOKEN', description: 'environment variable holding the bot token' },
    chatId: { type: 'any', description: 'chat id (default: the variable named by chatIdEnv)' },
    chatIdEnv: { type: 'string', default: 'TELEGRAM_CHAT_ID', description: 'environment variable holding the chat id' },
    baseUrl: { type: 'string', default: 'https://api.telegram.org', description: 'Bot API base URL' },
    text: { type: 'function', description: '(payload, event) => message text (default: strings as is, anything else as JSON)' },
    parseMode: { type: 'string', description: 'Telegram parse_mode, e.g. "HTML" or "MarkdownV2"' },
    ...httpSinkCommonOptions,
  },
  positional: ['chatId'],
  example: "net.add('to_telegram', connectors.telegram({ text: (a: any) => `Liability alert: ${a.customer}` }));",
  luaExample: 'tb.create_telegram("to_telegram", { token = "123456:example-token", chatId = "-1001234" })',
  build: (o) => {
    const token = o.token ?? process.env[o.tokenEnv];
    if (!token) {
      throw new TributaryError('BAD_OPTION', `node kind 'telegram': give option 'token' or set the environment variable ${o.tokenEnv}`);
    }
    const chatId = o.chatId ?? process.env[o.chatIdEnv];
    if (chatId === undefined || chatId === '' || (typeof chatId !== 'string' && typeof chatId !== 'number')) {
      throw new TributaryError('BAD_OPTION', `node kind 'telegram': give option 'chatId' (a string or number) or set the environment variable ${o.chatIdEnv}`);
    }
    const base = parseHttpUrl('telegram', 'baseUrl', o.baseUrl);
    const root = base.href.replace(/\/+$/, '');
    const make = o.text ?? defaultText;
    const parseMode = o.parseMode;
    return httpSinkNode(
      'telegram',
      {
        url: `${root}/bot${token}/sendMessage`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...targetTiming(o),
        secrets: [token, encodeURIComponent(token)],
        display: `${root}/bot<redacted>/sendMessage`,
      },
      o,
      (e) => JSON.stringify({ chat_id: chatId, text: make(e.payload, e), ...(parseMode ? { parse_mode: parseMode } : {}) }),
    );
  },
});
