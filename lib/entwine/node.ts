import { Observable } from 'rxjs';
import { compileCondition } from '../agglo/condition';
import { errorMessage, TributaryError } from '../errors';
import type { Event } from '../event';
import { opt, type InputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { stepStage, tapStep } from '../nodes/stage';
import type { NodeContext } from '../nodes/types';
import type { KeyValueStore } from '../state/types';
import { loadPrivateKey } from './keys';
import { checkSubstreamId, openEntwineStore } from './store';
import { SubstreamWriter } from './substream';
import { fetchHead } from './ticker-client';

/** The options of {@link entwine}, declared once. */
export const entwineOptions = {
  store: opt
    .string(
      'where the substream is kept: a directory (an SQLite file entwine.db in it) or a state store URL (sqlite:…, postgres://…, redis://…)',
    )
    .require(),
  substream: opt.string('the substream id: 1 to 128 of A-Z a-z 0-9 . _ -').require(),
  privateKey: opt.string('path of the PEM file (PKCS#8) holding the Ed25519 key every entry is signed with').require(),
  condition: opt.any<unknown>(
    'which events are appended: a function payload => boolean, or an agglo condition ({ expression: … } / { exists: … }); default: every event',
  ),
  ticker: opt.string('base URL of a ticker (tributary ticker serve) to anchor to; without it nothing is anchored'),
  tickerToken: opt.string("the ticker's bearer token (tributary ticker serve with TRIBUTARY_TICKER_TOKEN set); never logged", {
    secret: true,
  }),
  anchorEvery: opt.integer('send an anchor proof once this many entries are not yet anchored', { min: 1 }).withDefault(10),
};

/** Options of {@link entwine}. */
export type EntwineOptions = InputOf<typeof entwineOptions>;

const where = (o: string) => `node kind 'entwine': option '${o}'`;

function conditionOf(raw: unknown): (payload: unknown) => boolean {
  if (raw === undefined) return () => true;
  if (typeof raw === 'function') return (p) => Boolean((raw as (p: unknown) => unknown)(p));
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    try {
      const c = compileCondition(raw, 'condition');
      return (p) => c.test(p);
    } catch (e) {
      throw new TributaryError('BAD_OPTION', `${where('condition')}: ${errorMessage(e)}`);
    }
  }
  throw new TributaryError('BAD_OPTION', `${where('condition')}: must be a function or an agglo condition object`);
}

/**
 * Pipeline appending each event whose `condition` holds to a substream: the payload goes to the
 * store, the chain gets an entry with its SHA-256, the previous entry's digest, the index, the
 * time and an Ed25519 signature (docs/entwine.md). The event is passed on (unchanged) only once
 * its entry is stored, so it is acked downstream only then. Every `anchorEvery` entries the node
 * sends the unanchored ones to the `ticker` as a proof, in the background, and records the
 * tick the anchor landed in. A restarted node continues the chain from its head.
 *
 * @example
 * ```ts
 * net.add('ledger', entwine({ store: './chains', substream: 'orders', privateKey: './keys/orders.pem',
 *   ticker: 'http://127.0.0.1:8081', anchorEvery: 100, condition: (o: { total: number }) => o.total > 0 }));
 * ```
 */
export const entwine = defineNode({
  name: 'entwine',
  io: 'files',
  role: 'pipeline',
  summary: 'Appends events to a signed, hash-chained substream and anchors it to a ticker every N entries.',
  options: entwineOptions,
  positional: ['store', 'substream', 'privateKey'],
  example:
    "net.add('ledger', entwine({ store: './chains', substream: 'orders', privateKey: './keys/orders.pem', ticker: 'http://127.0.0.1:8081' }));",
  luaExample: 'tb.create_entwine("ledger", "./chains", "orders", "./keys/orders.pem")',
  build: (o) => {
    checkSubstreamId(o.substream, where('substream'));
    if (o.privateKey.trim() === '') throw new TributaryError('BAD_OPTION', `${where('privateKey')}: must name a PEM file`);
    const condition = conditionOf(o.condition);
    if (o.tickerToken !== undefined && o.ticker === undefined) {
      throw new TributaryError('BAD_OPTION', `${where('tickerToken')}: goes with option 'ticker' (the ticker it is sent to)`);
    }
    if (o.tickerToken === '') throw new TributaryError('BAD_OPTION', `${where('tickerToken')}: must not be empty`);
    if (o.ticker !== undefined && !/^https?:\/\//.test(o.ticker)) {
      throw new TributaryError('BAD_OPTION', `${where('ticker')}: must be an http:// or https:// URL`);
    }
    return {
      role: 'pipeline',
      kind: 'entwine',
      create: (ctx: NodeContext) => {
        // Read when the network starts (as file sources open their files), so a script can be
        // built and checked before the key is in place; a missing key stops the start.
        const privateKey = loadPrivateKey(o.privateKey, where('privateKey'));
        return (source: Observable<Event>) =>
          new Observable<Event>((subscriber) => {
            let kv: Promise<KeyValueStore> | undefined;
            let writer: Promise<SubstreamWriter> | undefined;
            let anchoring: Promise<unknown> | undefined;
            let appended = 0;
            ctx.reportProgress(() => ({ read: appended, unit: 'entries' }));
            const open = () =>
              (writer ??= (async () => {
                kv = openEntwineStore(o.store);
                const w = await SubstreamWriter.open({ store: await kv, substream: o.substream, privateKey });
                if (o.ticker) {
                  await fetchHead(o.ticker).then(
                    (t) => w.learnTick(t),
                    (e: unknown) => report(`cannot read the ticker's head: ${errorMessage(e)}`),
                  );
                }
                return w;
              })());
            const report = (m: string) => {
              ctx.logger.warn(`node '${ctx.name}': ${m}`);
              ctx.probe.error(m);
            };
            const anchor = (w: SubstreamWriter) => {
              if (!o.ticker || anchoring) return;
              anchoring = w
                .anchor(o.ticker, { token: o.tickerToken })
                .catch((e: unknown) => report(`anchor failed (retried at the next one): ${errorMessage(e)}`))
                .finally(() => (anchoring = undefined));
            };
            const append = async (payload: unknown) => {
              if (!condition(payload)) return;
              const w = await open();
              await w.append(payload, ctx.scheduler.now());
              appended++;
              if (w.unanchored >= o.anchorEvery) anchor(w);
            };
            const sub = stepStage(
              ctx,
              tapStep(ctx, append),
              1,
            )(source).subscribe({
              next: (e) => subscriber.next(e),
              error: (e) => subscriber.error(e),
              complete: () => {
                const finish = async () => {
                  if (!writer) return;
                  const w = await writer.catch(() => undefined);
                  if (anchoring) await anchoring;
                  if (w && o.ticker && w.unanchored >= o.anchorEvery) {
                    anchor(w);
                    await anchoring;
                  }
                };
                finish()
                  .then(async () => {
                    if (kv) await (await kv.catch(() => undefined))?.close();
                  })
                  .then(
                    () => subscriber.complete(),
                    () => subscriber.complete(),
                  );
              },
            });
            return () => sub.unsubscribe();
          });
      },
    };
  },
});
