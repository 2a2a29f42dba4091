import { Network, TributaryError, nodes } from 'tributary';
import { connectors } from 'tributary/connectors';
import { builtinPlugins } from 'tributary/plugins';

// Options are checked at run time whatever their static type: these are the inputs a JS caller,
// a config file or a cast could pass.
const N = nodes as unknown as Record<string, (o?: unknown) => unknown>;
const C = connectors as unknown as Record<string, (o?: unknown) => unknown>;
const fn = (x: unknown) => x;

/** Runs `build` and returns the TributaryError it threw. */
function thrown(build: () => unknown): TributaryError {
  try {
    build();
  } catch (e) {
    if (e instanceof TributaryError) return e;
    throw new Error(`not a TributaryError: ${String(e)}`);
  }
  throw new Error('did not throw');
}

type FactoryCase = [label: string, build: () => unknown, culprits: string[]];

// Factories of the core kinds and the connectors: the error names the kind and the option.
const FACTORIES: FactoryCase[] = [
  ['ticker without interval', () => N.ticker({}), ["node kind 'ticker'", "option 'interval' is required"]],
  ['ticker bad duration', () => N.ticker({ interval: 'soon' }), ["option 'interval'", 'bad duration "soon"']],
  ['ticker negative', () => N.ticker({ interval: -1 }), ["option 'interval'", 'bad duration -1']],
  ['ticker misspelt', () => N.ticker({ intervl: '1s' }), ["unknown option 'intervl'", "did you mean 'interval'"]],
  ['buffer size string', () => N.buffer({ size: 'x' }), ["node kind 'buffer'", "option 'size' must be an integer"]],
  ['buffer size zero', () => N.buffer({ size: 0 }), ["option 'size' must be at least 1"]],
  ['map without fn', () => N.map({}), ["node kind 'map'", "option 'fn' is required"]],
  ['map concurrency 0', () => N.map({ fn, concurrency: 0 }), ["option 'concurrency' must be at least 1"]],
  ['map misspelt', () => N.map({ fn, concurency: 2 }), ["unknown option 'concurency'", "did you mean 'concurrency'"]],
  ['map fn string', () => N.map({ fn: 'x' }), ["option 'fn' must be a function"]],
  ['where fn number', () => N.where({ fn: 1 }), ["node kind 'where'", "option 'fn' must be a function"]],
  ['flatmap without fn', () => N.flatmap({}), ["node kind 'flatmap'", "option 'fn' is required"]],
  ['tap fn null', () => N.tap({ fn: null }), ["node kind 'tap'", "option 'fn'"]],
  ['delay negative', () => N.delay({ duration: '-5ms' }), ["node kind 'delay'", "option 'duration'", 'bad duration "-5ms"']],
  ['dedupe without duration', () => N.dedupe({}), ["node kind 'dedupe'", "option 'duration' is required"]],
  ['ratelimit bad unit', () => N.ratelimit({ interval: '2 weeks' }), ["node kind 'ratelimit'", "option 'interval'"]],
  ['tester indicator number', () => N.tester({ indicator: 1 }), ["node kind 'tester'", "option 'indicator' must be a string"]],
  ['from items number', () => N.from({ items: 5 }), ["node kind 'from'", "option 'items'"]],
  ['injector maxInFlight 0', () => N.injector({ fn, maxInFlight: 0 }), ["node kind 'injector'", "option 'maxInFlight'"]],
  ['sink concurrency string', () => N.sink({ fn, concurrency: 'x' }), ["node kind 'sink'", "option 'concurrency'"]],
  ['handler without fn', () => N.handler({}), ["node kind 'handler'", "option 'fn' is required"]],
  ['interceptor misspelt', () => N.interceptor({ fn, concurrenc: 1 }), ["unknown option 'concurrenc'", "did you mean 'concurrency'"]],
  ['httpSource port string', () => C.httpSource({ port: 'x' }), ["node kind 'http_source'", "option 'port' must be an integer"]],
  ['httpSource bad format', () => C.httpSource({ format: 'xml' }), ["option 'format' must be one of", '"xml"']],
  ['httpSource bad respond', () => C.httpSource({ respond: 'later' }), ["option 'respond' must be one of", '"later"']],
  ['httpSource maxDepth 0', () => C.httpSource({ maxDepth: 0 }), ["option 'maxDepth' must be at least 1"]],
  ['webhook bad url', () => C.webhook({ url: 'nope' }), ["node kind 'webhook'", "option 'url' must be an http(s) URL", '"nope"']],
  ['webhook bad method', () => C.webhook({ url: 'http://127.0.0.1:1/', method: 'GET' }), ["option 'method' must be one of"]],
  ['slack timeout', () => C.slack({ url: 'https://hooks.slack.com/x', timeout: 'x' }), ["node kind 'slack'", "option 'timeout'"]],
  ['telegram retries', () => C.telegram({ token: '1:a', chatId: '1', retries: -1 }), ["node kind 'telegram'", "option 'retries'"]],
  ['natsSource without subject', () => C.natsSource({}), ["node kind 'nats_source'", "option 'subject' is required"]],
  ['natsSink bad codec', () => C.natsSink({ subject: 'a', codec: 'xml' }), ["node kind 'nats_sink'", "option 'codec' must be one of"]],
  ['amqpSource without queue', () => C.amqpSource({}), ["node kind 'amqp_source'", "option 'queue' is required"]],
  ['amqpSink exchangeType', () => C.amqpSink({ exchangeType: 'star' }), ["node kind 'amqp_sink'", "option 'exchangeType' must be one of"]],
  ['fileSource without path', () => C.fileSource({}), ["node kind 'file_source'", "option 'path' is required"]],
  ['fileSink bad format', () => C.fileSink({ path: 'x', format: 'parquet' }), ["node kind 'file_sink'", "option 'format' must be one of"]],
  ['stdinSource bad format', () => C.stdinSource({ format: 'xml' }), ["node kind 'stdin_source'", "option 'format' must be one of"]],
];

type NetCase = [label: string, build: (net: Network) => unknown, code: string, culprits: string[]];

const tick = () => N.ticker({ interval: '1s' }) as ReturnType<typeof nodes.ticker>;
const fwd = () => nodes.forwarder();

// The Network API: names, registry creation, wiring and validation.
const NETWORK: NetCase[] = [
  ['create unknown kind', (n) => n.create('tickr', 't', { interval: '1s' }), 'UNKNOWN_KIND', ["node 't'", "unknown node kind 'tickr'"]],
  ['create bad duration', (n) => n.create('ticker', 't', { interval: 'x' }), 'BAD_OPTION', ["node 't'", "option 'interval'"]],
  ['create misspelt', (n) => n.create('ticker', 't', { intervl: '1s' }), 'BAD_OPTION', ["node 't'", "did you mean 'interval'"]],
  ['create without options', (n) => n.create('ticker', 't'), 'BAD_OPTION', ["node 't'", "option 'interval' is required"]],
  ['create window bad unit', (n) => n.create('window', 'w', { timeUnit: 'ns' }), 'BAD_OPTION', ["node 'w'", "option 'timeUnit'"]],
  ['create map bad fn', (n) => n.create('map', 'm', { fn: 3 }), 'BAD_OPTION', ["node 'm'", "node kind 'map'", "option 'fn'"]],
  ['add a number', (n) => n.add('x', 5 as never), 'BAD_OPTION', ["node 'x'", 'not a node']],
  ['add null', (n) => n.add('y', null as never), 'BAD_OPTION', ["node 'y'", 'not a node']],
  ['name a number', (n) => n.add(5 as never, fwd()), 'BAD_OPTION', ['node name must be a non-empty string, got 5']],
  ['name empty', (n) => n.add('', fwd()), 'BAD_OPTION', ['node name must be a non-empty string']],
  ['name with newline', (n) => n.add('a\nb', fwd()), 'BAD_OPTION', ['node name "a\\nb" may not contain']],
  ['name with tab', (n) => n.add('a\tb', fwd()), 'BAD_OPTION', ['node name "a\\tb" may not contain']],
  ['name with double quote', (n) => n.add('a"b', fwd()), 'BAD_OPTION', ['may not contain spaces, quotes']],
  ['name $errors', (n) => n.add('$errors', fwd()), 'RESERVED_NAME', ["node name '$errors' is reserved"]],
  ['name prototype', (n) => n.add('prototype', fwd()), 'RESERVED_NAME', ["node name 'prototype' is reserved"]],
  ['name __proto__', (n) => n.add('__proto__', fwd()), 'RESERVED_NAME', ["node name '__proto__' is reserved"]],
  ['duplicate name', (n) => n.add('a', fwd()).add('a', fwd()), 'DUPLICATE_NODE', ["node 'a' already exists"]],
  ['duplicate via create', (n) => n.add('a', fwd()).create('forwarder', 'a'), 'DUPLICATE_NODE', ["node 'a' already exists"]],
  ['link unknown target', (n) => n.add('a', fwd()).link('a', 'b'), 'UNKNOWN_NODE', ["unknown node 'b' (nodes: a)"]],
  ['link unknown source', (n) => n.add('a', fwd()).link('z', 'a'), 'UNKNOWN_NODE', ["unknown node 'z'"]],
  ['fanout without targets', (n) => n.add('a', fwd()).fanout('a'), 'BAD_LINK', ["fanout from 'a'"]],
  ['fanin without sources', (n) => n.add('a', fwd()).fanin('a'), 'BAD_LINK', ["fanin into 'a'"]],
  ['routeErrors unknown', (n) => n.add('a', fwd()).routeErrors('a', 'x'), 'UNKNOWN_NODE', ["unknown node 'x'"]],
  ['validate empty', (n) => n.validate(), 'UNCONNECTED', ['network has no nodes']],
  ['validate lone source', (n) => n.add('t', tick()).validate(), 'UNCONNECTED', ["node 't' (source) has no output"]],
  [
    'validate stray pipeline',
    (n) => n.add('t', tick()).add('d', nodes.discarder()).link('t', 'd').add('a', fwd()).validate(),
    'UNCONNECTED',
    ["node 'a' (pipeline) has no input", "node 'a' (pipeline) has no output"],
  ],
  ['validate lone sink', (n) => n.add('d', nodes.discarder()).validate(), 'UNCONNECTED', ["node 'd'"]],
];

describe('TypeScript factories name the kind and the option', () => {
  it.each(FACTORIES)('%s', (_label, build, culprits) => {
    const e = thrown(build);
    expect(e.code).toBe('BAD_OPTION');
    for (const c of culprits) expect(e.message).toContain(c);
  });
});

describe('the Network API names the node, option or link', () => {
  it.each(NETWORK)('%s', (_label, build, code, culprits) => {
    const e = thrown(() => build(new Network({ plugins: builtinPlugins() })));
    expect(e.code).toBe(code);
    for (const c of culprits) expect(e.message).toContain(c);
  });

  it.each(NETWORK.filter(([, , code]) => code === 'UNCONNECTED'))('start() refuses too: %s', async (_label, build, code, culprits) => {
    const net = new Network({ plugins: builtinPlugins() });
    try {
      build(net);
    } catch {
      // the graph stays as built; start() must give the same answer
    }
    await expect(net.start()).rejects.toMatchObject({ code, message: expect.stringContaining(culprits[0]) });
  });
});
