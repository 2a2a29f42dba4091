/**
 * The setup of issue 9's reported loss, for the outage specs: http_source (respond "acked")
 * → a window inserting into `readings (n integer)` → a discarder, on the window database at
 * `url`. `send(n)` POSTs `{ n }` and records the status the client got.
 */
import { Network, nodes } from 'tributary';
import { connectors, type ListeningInfo } from 'tributary/connectors';
import { windows, windowsPlugin } from 'tributary/windows';

export const READINGS = { name: 'readings', columns: { n: 'integer' as const } };

export async function ackedIngest(url: string): Promise<{ net: Network; answers: Map<number, number>; send(n: number): Promise<void> }> {
  const net = new Network({
    plugins: [windowsPlugin({ url, tables: [READINGS] })],
    logger: { warn: () => undefined, error: () => undefined },
  });
  let resolveListening!: (i: ListeningInfo) => void;
  const listening = new Promise<ListeningInfo>((r) => (resolveListening = r));
  net.add('in', connectors.httpSource({ port: 0, respond: 'acked', onListening: resolveListening }));
  net.add('store', windows.window({ table: 'readings' }));
  net.add('void', nodes.discarder());
  net.link('in', 'store');
  net.link('store', 'void');
  await net.start();
  const endpoint = `http://127.0.0.1:${(await listening).port}/events`;
  const answers = new Map<number, number>();
  return {
    net,
    answers,
    async send(n) {
      const res = await fetch(endpoint, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json' } });
      await res.text();
      answers.set(n, res.status);
    },
  };
}
