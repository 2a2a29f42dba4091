import { Network, nodes, type NetworkOptions, type TextOutput } from 'tributary';

/**
 * The original README's network, in TypeScript: a 500 ms ticker fanned out to a 2 s rate
 * limit and a forwarder, both fanned in to a printer of dots.
 */
export function buildTickerNetwork(options: NetworkOptions & { output?: TextOutput } = {}): Network {
  const { output, ...networkOptions } = options;
  const net = new Network(networkOptions);
  net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));
  net.add('filter_2s', nodes.ratelimit({ interval: '2s' }));
  net.add('forwarder1', nodes.forwarder());
  net.add('forwarder2', nodes.forwarder());
  net.add('tick_printer', nodes.tester({ indicator: '.', output }));
  net.link('ticker_500ms', 'forwarder1');
  net.fanout('forwarder1', 'filter_2s', 'forwarder2');
  net.fanin('tick_printer', 'filter_2s', 'forwarder2');
  return net;
}

// Run it for three seconds: `npx ts-node examples/quickstart/ticker.ts`
if (require.main === module) {
  const net = buildTickerNetwork();
  void net.start().then(() =>
    setTimeout(async () => {
      const report = await net.stop();
      console.log(`\nprinted ${report.stats.tick_printer.in} dots`);
    }, 3000),
  );
}
