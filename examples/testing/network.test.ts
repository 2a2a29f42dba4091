// Level 2: a whole TypeScript network on the scheduler of an rxjs-marbles test.
import { marbles } from 'rxjs-marbles/jest';
import type { Observable, SchedulerLike } from 'rxjs';
import { Network, nodes, type NodeSpec } from 'tributary';
import { DeliveryProbe, VirtualTime } from 'tributary/testing';

interface Bet {
  customer: string;
  stake: number;
}

/** The network under test: big bets go to the alerts sink, small ones are dropped. */
function bigBets(scheduler: SchedulerLike, source: NodeSpec | Observable<Bet>, alerts: NodeSpec): Network {
  const net = new Network({ scheduler });
  net.add('bets', source);
  net.add('big', nodes.where({ fn: (b: Bet) => b.stake >= 100 }));
  net.add('alerts', alerts);
  net.link('bets', 'big');
  net.link('big', 'alerts');
  return net;
}

const values = {
  a: { customer: 'ann', stake: 5 },
  b: { customer: 'bob', stake: 250 },
  c: { customer: 'cy', stake: 100 },
};

describe('the big-bets network', () => {
  it(
    'sends only big bets to the alerts sink, at the frame they arrive',
    marbles((m) => {
      const t = new VirtualTime(m.scheduler);
      const alerts = t.sink<Bet>();
      const net = bigBets(m.scheduler, m.cold('-a-b-c|', values), alerts.node);
      t.start(net); // starts without flushing: the marbles test flushes when this body returns
      m.expect(alerts.payloads).toBeObservable('---b-c|', values);
    }),
  );

  it(
    'acks every bet: the small ones when dropped, the big ones when the sink took them',
    marbles((m) => {
      const t = new VirtualTime(m.scheduler);
      const deliveries = new DeliveryProbe<Bet>(m.scheduler); // a stand-in for a bus source
      const net = bigBets(m.scheduler, deliveries.source(m.hot('--a--b--c--|', values)), t.sink().node);
      t.start(net);
      m.expect(deliveries.acks).toBeObservable('--a--b--c', values);
      m.expect(deliveries.nacks).toBeObservable('');
      m.flush(); // run the clock now, to read the counters afterwards
      expect(net.report().stats.big).toMatchObject({ in: 3, out: 2, dropped: 1 });
      expect(deliveries.pending()).toEqual([]);
    }),
  );

  it(
    'runs a ticker for 10 virtual seconds and drains at the end',
    marbles((m) => {
      const t = new VirtualTime(m.scheduler);
      const out = t.sink<number>();
      const net = new Network({ scheduler: m.scheduler });
      net.add('ticks', nodes.ticker({ interval: '2s' }));
      net.add('out', out.node);
      net.link('ticks', 'out');
      t.start(net, '10s'); // stop and drain at 10 s (a tick due exactly then is included)
      m.expect(out.payloads).toBeObservable('2s a 1999ms b 1999ms c 1999ms d 1999ms (e|)', {
        a: 2000,
        b: 4000,
        c: 6000,
        d: 8000,
        e: 10000,
      });
    }),
  );
});

describe('the same network without rxjs-marbles', () => {
  it('runs on its own TestScheduler: t.run() starts, runs 10 ms and drains; startSync() is what it calls', () => {
    const t = new VirtualTime();
    const alerts = t.sink<Bet>();
    const net = bigBets(t.scheduler, t.source('-a-b-c|', values), alerts.node);
    const report = t.run(net, '10ms');
    t.expectFrames(alerts, '---b-c|', values);
    expect(report.stats.big.dropped).toBe(1);
  });

  it('startSync() compiles and subscribes within the call, for your own TestScheduler.run', () => {
    const t = new VirtualTime();
    const alerts = t.sink<Bet>();
    const net = bigBets(t.scheduler, t.source('-a-b-c|', values), alerts.node);
    t.scheduler.run(({ expectObservable }) => {
      net.startSync();
      expectObservable(alerts.payloads).toBe('---b-c|', values);
    });
    expect(net.state).toBe('stopped'); // every source completed, so the network ended by itself
  });
});
