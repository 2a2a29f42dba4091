import { Network, nodes, type Settlement } from 'tributary';
import { windows, windowsPlugin } from 'tributary/windows';
import { drivers } from './helpers';

/**
 * Issue 9, point 1, the class: a window turns a row it could not store into an error event;
 * whatever sink is downstream — a discarder too — must give it back (nack), never ack it as
 * done, or the source (an HTTP client told 200, a bus message) loses it silently.
 */
describe.each(drivers)('a row the window could not store is never acked ($name)', (driver) => {
  it('window → discarder: stored rows acked, the failed one nacked and reported', async () => {
    const settled: { payload: unknown; acked: boolean }[] = [];
    const warnings: string[] = [];
    const { url } = await driver.open(); // a fresh database (closed and dropped after the test)
    const net = new Network({
      plugins: [windowsPlugin({ url, tables: [{ name: 'readings', columns: { v: 'number' } }] })],
      logger: { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) },
    });
    net.add(
      'in',
      nodes.from({
        items: [{ v: 1 }, 'not a row', { v: 3 }],
        onSettle: (e: { payload: unknown }, s: Settlement) => void settled.push({ payload: e.payload, acked: s.acked }),
      }),
    );
    net.add('store', windows.window({ table: 'readings' }));
    net.add('void', nodes.discarder());
    net.link('in', 'store');
    net.link('store', 'void');
    await net.start();
    const report = await net.done();
    expect(settled).toEqual(
      expect.arrayContaining([
        { payload: { v: 1 }, acked: true },
        { payload: 'not a row', acked: false },
        { payload: { v: 3 }, acked: true },
      ]),
    );
    expect(settled).toHaveLength(3);
    expect(report.stats.void).toMatchObject({ acked: 2, nacked: 1 });
    expect(warnings).toEqual([expect.stringMatching(/^node 'void': error event .+ from 'store': /)]);
  });
});
