import { TributaryError } from '../errors';
import type { Event } from '../event';
import { opt } from '../nodes/options';
import { definePlugin } from '../nodes/plugin';
import { defineNode } from '../nodes/registry';
import { concurrencyOption, eventOf, sinkStage } from '../nodes/stage';
import type { NodeContext } from '../nodes/types';
import { REPLIES_SERVICE, type ReplyCollector } from './feed';

function repliesOf(ctx: NodeContext): ReplyCollector | undefined {
  try {
    return ctx.service<ReplyCollector>(REPLIES_SERVICE);
  } catch (e) {
    if (e instanceof TributaryError) return undefined;
    throw e;
  }
}

/**
 * Sink marking the network's answer: under `tributary serve` each payload it receives is
 * returned in the HTTP response of the request whose event it derives from (matched by event
 * id); under `tributary run` it writes each payload to standard output as one NDJSON line
 * (with no run mode around it, to `output`). Acks once the payload was recorded or written.
 *
 * @example
 * ```ts
 * net.create('reply', 'answer');
 * net.link('score', 'answer');
 * ```
 */
export const reply = defineNode({
  name: 'reply',
  role: 'sink',
  summary: "The answer of `tributary serve`: payloads go into the request's 200 response (under `run`: NDJSON on stdout).",
  options: {
    output: opt.any<{ write(text: string): unknown }>('stream written to when no server collects replies (default process.stdout)'),
    concurrency: concurrencyOption,
  },
  positional: [],
  example: "net.create('reply', 'answer');",
  luaExample: 'tb.create_reply("answer")',
  build: (o) => ({
    role: 'sink',
    kind: 'reply',
    create: (ctx) => {
      const replies = repliesOf(ctx);
      const out = o.output ?? process.stdout;
      return sinkStage(
        ctx,
        (event: Event) => {
          if (replies?.add(event.meta.id, event.payload)) return;
          if (!replies) out.write(JSON.stringify(event.payload) + '\n');
          // Under serve, a reply for a request already answered (a late window) is dropped.
        },
        o.concurrency,
        eventOf,
      );
    },
  }),
});

/**
 * The run-mode node kinds as a plugin: `reply`.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [servePlugin] });
 * ```
 */
export const servePlugin = definePlugin({ name: 'serve', kinds: [reply] });
