// A network logging through your own pino logger: the network gives each node
// logger.child({ node, kind }), so every line a node writes says which node it was.
import { pino, type DestinationStream } from 'pino';
import { Network, nodes } from 'tributary';

export function buildLoggedNetwork(destination: DestinationStream = pino.destination(2)): Network {
  const logger = pino({ level: 'info', redact: ['password', '*.password'] }, destination);
  const net = new Network({ logger });
  net.add('numbers', nodes.from({ items: [1, 2, 0, 4] }));
  net.add(
    'invert',
    nodes.map({
      fn: (n: number) => {
        if (n === 0) throw new Error('cannot invert 0');
        return 1 / n;
      },
    }),
  );
  net.add('void', nodes.discarder()); // nacks the error event and logs a warning
  net.link('numbers', 'invert');
  net.link('invert', 'void');
  return net;
}
