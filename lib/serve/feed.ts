import { Observable, isObservable, type Subscriber } from 'rxjs';
import { createDelivery, type Settlement } from '../delivery';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { Network, type NetworkOptions } from '../network/network';
import { observable as observableNode } from '../nodes/adapters';
import type { NodeContext, NodeSpec } from '../nodes/types';

/** The service key under which a run mode hands its {@link Replies} collector to `reply` nodes. */
export const REPLIES_SERVICE = 'tributary.replies';

/** What happened to one event fed into the network. */
export interface FeedOutcome {
  /** The event's id (derived events keep it; `reply` nodes collect by it). */
  readonly id: string;
  readonly settlement: Settlement;
}

/** What `reply` nodes hand their payloads to (the {@link REPLIES_SERVICE}). */
export interface ReplyCollector {
  /** Takes a payload a `reply` node received for the input event `id`; false when nobody wants it. */
  add(id: string, payload: unknown): boolean;
}

/**
 * Collects what `reply` nodes receive, per input event id, while a run mode waits for that
 * event to settle.
 *
 * @example
 * ```ts
 * const replies = new Replies();
 * replies.open('e1');
 * replies.add('e1', { ok: true });
 * replies.take('e1'); // [{ ok: true }]
 * ```
 */
export class Replies implements ReplyCollector {
  private readonly open_ = new Map<string, unknown[]>();
  /** Starts collecting for `id`. */
  open(id: string): void {
    this.open_.set(id, []);
  }
  /** Records a payload a `reply` node received for `id`; false when nobody collects for it. */
  add(id: string, payload: unknown): boolean {
    const list = this.open_.get(id);
    if (!list) return false;
    list.push(payload);
    return true;
  }
  /** Stops collecting for `id` and returns what was collected. */
  take(id: string): unknown[] {
    const list = this.open_.get(id) ?? [];
    this.open_.delete(id);
    return list;
  }
}

/**
 * The input a run mode pushes events into: it stands in for the network's input node
 * (see {@link FeedNetwork}). Each pushed payload becomes one event with a delivery handle;
 * the returned promise resolves once the network settled it (acked: every derived event was
 * processed; nacked: a node failed on it).
 *
 * @example
 * ```ts
 * const outcome = await feed.push({ n: 1 });
 * if (!outcome.settlement.acked) console.error(outcome.settlement.reason);
 * ```
 */
export class Feed {
  private subscriber: Subscriber<Event> | undefined;
  private ctx: NodeContext | undefined;
  private ended = false;
  private open = 0;
  private idle: (() => void)[] = [];
  /** Called with the id of each event as it is created, before it enters the network. */
  onEvent: ((id: string) => void) | undefined;

  /** The source observable the input node is replaced by. */
  source(ctx: NodeContext): Observable<Event> {
    return new Observable<Event>((subscriber) => {
      if (this.subscriber) throw new TributaryError('STATE', `node '${ctx.name}': the run mode's input can only be read once`);
      this.subscriber = subscriber;
      this.ctx = ctx;
      if (this.ended) subscriber.complete();
      return () => {
        this.subscriber = undefined;
      };
    });
  }

  /** True once the network subscribed to the input (it started). */
  get ready(): boolean {
    return this.subscriber !== undefined && !this.ended;
  }

  /** Events pushed and not yet settled. */
  get inFlight(): number {
    return this.open;
  }

  /** Pushes one payload; resolves when its event settled. Rejects if the input is not open. */
  push(payload: unknown): Promise<FeedOutcome> {
    const subscriber = this.subscriber;
    const ctx = this.ctx;
    if (!subscriber || !ctx || this.ended) return Promise.reject(new TributaryError('STATE', 'the network is not taking input'));
    return new Promise<FeedOutcome>((resolve) => {
      this.open++;
      let id = '';
      const delivery = createDelivery((settlement) => {
        this.open--;
        resolve({ id, settlement });
        if (this.open === 0) for (const f of this.idle.splice(0)) f();
      });
      const event = ctx.event(payload, { delivery });
      id = event.meta.id;
      this.onEvent?.(id);
      subscriber.next(event);
    });
  }

  /** Resolves once every pushed event settled. */
  settled(): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Ends the input: the input node completes (the network drains once every source has). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.subscriber?.complete();
  }
}

/**
 * A network whose input node (chosen after the scripts built it, see {@link chooseInput}) is
 * replaced by a {@link Feed} when the network starts; every other node runs as built.
 *
 * @example
 * ```ts
 * const net = new FeedNetwork({});
 * net.add('in', connectors.stdinSource());
 * net.inputName = chooseInput(net, undefined);
 * ```
 */
export class FeedNetwork extends Network {
  /** Every source the scripts added, with its kind, in order. */
  readonly sources: { name: string; kind: string }[] = [];
  /** The replaced node; set before start. */
  inputName: string | undefined;
  readonly feed = new Feed();

  constructor(options: NetworkOptions) {
    super(options);
  }

  override add(name: string, node: NodeSpec | Observable<unknown>): this {
    const spec: NodeSpec = isObservable(node) ? observableNode(node) : node;
    if (spec?.role !== 'source') return super.add(name, spec);
    this.sources.push({ name, kind: spec.kind });
    return super.add(name, {
      ...spec,
      create: (ctx: NodeContext) => (this.inputName === name ? this.feed.source(ctx) : spec.create(ctx)),
    } as NodeSpec);
  }
}

/**
 * Which source a run mode feeds: the node named by `--input-node` (it must be a source);
 * otherwise the only source of kind `stdin_source`; otherwise the network's only source.
 * Anything else is a usage error naming the sources.
 *
 * @example
 * ```ts
 * net.inputName = chooseInput(net, opts.inputNode); // 'in'
 * ```
 */
export function chooseInput(net: FeedNetwork, named: string | undefined): string {
  const list = net.sources.map((s) => `'${s.name}' (${s.kind})`).join(', ') || 'none';
  if (named !== undefined) {
    if (!net.sources.some((s) => s.name === named)) {
      throw new TributaryError('BAD_OPTION', `--input-node ${named}: no source of that name; the sources are ${list}`);
    }
    return named;
  }
  const stdin = net.sources.filter((s) => s.kind === 'stdin_source');
  if (stdin.length === 1) return stdin[0].name;
  if (stdin.length === 0 && net.sources.length === 1) return net.sources[0].name;
  throw new TributaryError(
    'BAD_OPTION',
    `cannot tell which source takes the input (the sources are ${list}); name it with --input-node <name>`,
  );
}
