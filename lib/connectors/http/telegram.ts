import { TributaryError } from '../../errors';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { connectionFields, optionOrEnv, requiredOptionOrEnv } from '../fields';
import { httpSinkCommonOptions } from './deliver';
import { defaultText, messageTextField } from './slack';
import { httpSinkNode, parseHttpUrl } from './webhook';

/** The options of {@link telegram}, declared once: types, validation, defaults and docs come from here. */
export const telegramOptions = {
  token: connectionFields.token.describe('bot token (default: the variable named by tokenEnv); never logged'),
  tokenEnv: connectionFields.tokenEnv.describe('environment variable holding the bot token').withDefault('TELEGRAM_BOT_TOKEN'),
  chatId: opt.any<string | number>('chat id (default: the variable named by chatIdEnv)'),
  chatIdEnv: opt.string('environment variable holding the chat id').withDefault('TELEGRAM_CHAT_ID'),
  baseUrl: opt.string('Bot API base URL').withDefault('https://api.telegram.org'),
  text: messageTextField,
  parseMode: opt.string('Telegram parse_mode, e.g. "HTML" or "MarkdownV2"'),
  ...httpSinkCommonOptions,
};

/** Options of {@link telegram}. */
export type TelegramOptions = InputOf<typeof telegramOptions>;

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
export const telegram = defineNode({
  name: 'telegram',
  io: 'network',
  role: 'sink',
  summary: 'Sends each event as a Telegram message (Bot API sendMessage); the token never appears in logs or errors.',
  options: telegramOptions,
  positional: ['chatId'],
  example: "net.add('to_telegram', connectors.telegram({ text: (a: any) => `Liability alert: ${a.customer}` }));",
  luaExample: 'tb.create_telegram("to_telegram", { token = "123456:example-token", chatId = "-1001234" })',
  build: (o) => {
    const token = requiredOptionOrEnv('telegram', 'token', o.token, o.tokenEnv);
    const chatId = optionOrEnv(o.chatId, o.chatIdEnv);
    if (chatId === undefined || chatId === '' || (typeof chatId !== 'string' && typeof chatId !== 'number')) {
      throw new TributaryError(
        'BAD_OPTION',
        `node kind 'telegram': give option 'chatId' (a string or number) or set the environment variable ${o.chatIdEnv}`,
      );
    }
    const base = parseHttpUrl('telegram', 'baseUrl', o.baseUrl);
    const root = base.href.replace(/\/+$/, '');
    const make = o.text ?? defaultText;
    const parseMode = o.parseMode;
    return httpSinkNode(
      'telegram',
      o,
      { url: `${root}/bot${token}/sendMessage`, secrets: [token, encodeURIComponent(token)], display: `${root}/bot<redacted>/sendMessage` },
      (e) => JSON.stringify({ chat_id: chatId, text: make(e.payload, e), ...(parseMode ? { parse_mode: parseMode } : {}) }),
    );
  },
});
