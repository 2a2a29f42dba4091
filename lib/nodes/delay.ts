import { delay as rxDelay } from 'rxjs';
import { opt } from './options';
import { defineNode } from './registry';

/**
 * Pipeline holding each event for `duration` (on the network's scheduler) before passing it
 * on. On stop, held events are still delivered before the node completes.
 *
 * @example
 * ```ts
 * net.add('later', nodes.delay({ duration: '1s' }));
 * ```
 */
export const delay = defineNode({
  name: 'delay',
  role: 'pipeline',
  summary: 'Holds each event for a duration before passing it on.',
  options: {
    duration: opt.timer('how long each event is held').require(),
  },
  positional: ['duration'],
  example: "net.add('later', nodes.delay({ duration: '1s' }));",
  luaExample: 'tb.create_delay("later", "1s")',
  build: ({ duration }) => ({
    role: 'pipeline',
    kind: 'delay',
    create: (ctx) => rxDelay(duration, ctx.scheduler),
  }),
});
