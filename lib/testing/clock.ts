import { TestScheduler } from 'rxjs/testing';
import { parseDuration, type Duration } from '../duration';
import type { Network, NetworkReport } from '../network/network';

/** Something that can say when outstanding asynchronous work is done (a window store). */
export interface Settles {
  idle(): Promise<void>;
}

/**
 * Runs a network on a `TestScheduler` when some of its work is really asynchronous (a window
 * database). `TestScheduler.run` flushes virtual time synchronously, so a query started at
 * 10 s would only finish after the clock had already run to the end. This clock instead
 * advances one scheduled frame at a time and, before every step, waits until the store has
 * no work outstanding (`store.idle()`): results of a query started at frame F are emitted
 * while the clock still reads F, exactly as if the database were instant. Nothing sleeps and
 * nothing depends on wall-clock time.
 *
 * Marble sources parse with 1 ms per `-` as in run mode while the clock is started.
 *
 * @example
 * ```ts
 * const t = new VirtualTime();
 * const net = new Network({ scheduler: t.scheduler });
 * net.provide(WINDOW_SERVICE, store);
 * // … add nodes
 * const clock = new VirtualClock(t.scheduler, store);
 * await clock.start(net);
 * await clock.advanceTo(10_000);     // inspect the database here if you like
 * const report = await clock.stop(net);
 * ```
 */
export class VirtualClock {
  private prevFactor?: number;

  constructor(
    readonly scheduler: TestScheduler,
    private readonly work: Settles,
  ) {}

  /** The virtual time in ms. */
  get now(): number {
    return this.scheduler.now();
  }

  /**
   * Starts the network at the current virtual time (opening the services its nodes need,
   * such as the window store of a `windowsPlugin`) and lets its start-up work settle.
   */
  async start(net: Network): Promise<void> {
    if ((this.scheduler as unknown as { runMode?: boolean }).runMode) {
      // TestScheduler.run flushes synchronously, before any database answer could arrive.
      throw new Error(
        'VirtualClock cannot run inside TestScheduler.run (an rxjs-marbles test): use it in an async test with new VirtualTime()',
      );
    }
    this.prevFactor = TestScheduler.frameTimeFactor;
    TestScheduler.frameTimeFactor = 1;
    // start() opens pending services first; with none it compiles within the call, as startSync.
    await net.start();
    await this.work.idle();
  }

  /** Runs every action due up to `frame` (included), settling the database between frames. */
  async advanceTo(frame: number): Promise<void> {
    const s = this.scheduler;
    for (;;) {
      await this.work.idle();
      const next = s.actions[0];
      if (!next || next.delay > frame) break;
      s.maxFrames = next.delay;
      s.flush();
    }
    if (s.frame < frame) s.frame = frame;
  }

  /** Runs for `duration` more virtual time. */
  advanceBy(duration: Duration): Promise<void> {
    return this.advanceTo(this.scheduler.now() + parseDuration(duration, 'duration'));
  }

  /**
   * Drains the network (sources complete, windows flush their inserts) on the virtual clock
   * and resolves with its report.
   */
  async stop(net: Network): Promise<NetworkReport> {
    let report: NetworkReport | undefined;
    const stopping = net.stop().then((r) => (report = r));
    try {
      for (;;) {
        await this.work.idle();
        if (report) return report;
        const next = this.scheduler.actions[0];
        if (!next) {
          await stopping;
          return report!;
        }
        this.scheduler.maxFrames = next.delay;
        this.scheduler.flush();
      }
    } finally {
      if (this.prevFactor !== undefined) TestScheduler.frameTimeFactor = this.prevFactor;
    }
  }

  /**
   * Starts the network, runs it for `duration` of virtual time (events at exactly that time
   * included) and drains it.
   *
   * @example
   * ```ts
   * const report = await new VirtualClock(t.scheduler, store).run(net, '30s');
   * ```
   */
  async run(net: Network, duration: Duration): Promise<NetworkReport> {
    const end = this.scheduler.now() + parseDuration(duration, 'duration');
    await this.start(net);
    await this.advanceTo(end);
    return this.stop(net);
  }
}
