import * as ts from 'typescript';
import {
  builtinKinds,
  createEvent,
  createRegistry,
  defineNode,
  Network,
  nodes,
  opt,
  Registry,
  TributaryError,
  withError,
  withPayload,
  type NodeKind,
} from 'tributary';
import { VirtualTime } from 'tributary/testing';

const shout = defineNode({
  name: 'shout',
  role: 'pipeline',
  summary: 'Upper-cases string payloads.',
  options: { suffix: opt.string('appended').withDefault('!') },
  positional: ['suffix'],
  example: "net.add('loud', shout());",
  build: ({ suffix }) => nodes.map({ fn: (s: string) => s.toUpperCase() + suffix }),
});

describe('Registry', () => {
  it('createRegistry() holds every built-in kind, and list() is sorted by name', () => {
    const names = createRegistry()
      .list()
      .map((k) => k.name);
    for (const k of builtinKinds) expect(names).toContain(k.name);
    expect(names).toEqual([...names].sort());
  });

  it('registers a kind from its factory or its description, and creates nodes of it', () => {
    const r = new Registry().register(shout);
    expect(r.has('shout')).toBe(true);
    expect(r.get('shout')).toBe(shout.kind);
    expect(r.create('shout', { suffix: '?' }).role).toBe('pipeline');
    expect(new Registry([shout.kind]).has('shout')).toBe(true);
  });

  it('validates options on create, naming the kind', () => {
    expect(() => createRegistry().create('ratelimit', { interval: '2 s' })).toThrow(
      /node kind 'ratelimit': option 'interval': bad duration/,
    );
    expect(() => createRegistry().create('ratelimit', {})).toThrow(/node kind 'ratelimit': option 'interval' is required/);
  });

  it('refuses a duplicate name unless replace is set', () => {
    const r = new Registry().register(shout);
    expect(() => r.register(shout)).toThrow(TributaryError);
    expect(() => r.register(shout)).toThrow("node kind 'shout' is already registered");
    const other = { ...shout.kind, summary: 'other' };
    r.register(other, { replace: true });
    expect(r.get('shout').summary).toBe('other');
  });

  it('refuses kind names that cannot become a Lua create_<name> export', () => {
    for (const name of ['Shout', 'my-kind', '1kind', '']) {
      expect(() => new Registry().register({ ...shout.kind, name })).toThrow(/must be lower_snake_case/);
    }
  });

  it('clones independently: registering on either leaves the other unchanged', () => {
    const original = createRegistry();
    const copy = original.clone();
    copy.register(shout);
    expect(copy.has('shout')).toBe(true);
    expect(original.has('shout')).toBe(false);
    original.register({ ...shout.kind, name: 'whisper' });
    expect(copy.has('whisper')).toBe(false);
    expect(copy.list().length).toBe(original.list().length);
  });

  it('two createRegistry() calls share nothing (no global state)', () => {
    createRegistry().register(shout);
    expect(createRegistry().has('shout')).toBe(false);
  });

  it('names the unknown kind and lists the known ones, sorted', () => {
    const r = new Registry([shout, nodes.ticker, nodes.delay]);
    expect(() => r.get('tickr')).toThrow(TributaryError);
    expect(() => r.get('tickr')).toThrow("unknown node kind 'tickr' (known: delay, shout, ticker)");
    expect(() => r.create('tickr')).toThrow(/unknown node kind 'tickr'/);
    try {
      r.get('tickr');
    } catch (e) {
      expect((e as TributaryError).code).toBe('UNKNOWN_KIND');
    }
  });

  it('defineNode refuses a positional argument that is not an option', () => {
    expect(() => defineNode({ ...shout.kind, positional: ['sufix'] })).toThrow(/positional 'sufix' is not an option/);
  });

  it('a kind that builds a node of another role than it declares is an error', () => {
    const liar = defineNode({ ...shout.kind, options: {}, positional: [], name: 'liar', role: 'sink' } as NodeKind<{}, {}>);
    expect(() => liar()).toThrow(/declared a sink but built a pipeline/);
  });

  it('factories carry their kind and name', () => {
    for (const k of builtinKinds) {
      const factory = (nodes as Record<string, unknown>)[k.name] as { kind: NodeKind; name: string };
      expect(factory.kind).toBe(k);
      expect(factory.name).toBe(k.name);
    }
  });
});

describe('the catalogue of built-in kinds', () => {
  const kinds = createRegistry().list();

  it.each(kinds.map((k) => [k.name, k] as const))('%s: every positional argument is one of its options', (_name, kind) => {
    for (const p of kind.positional) expect(Object.keys(kind.options)).toContain(p);
  });

  it.each(kinds.map((k) => [k.name, k] as const))('%s: has a summary and a description for every option', (_name, kind) => {
    expect(kind.summary.length).toBeGreaterThan(0);
    for (const spec of Object.values(kind.options)) expect(spec.description.length).toBeGreaterThan(0);
  });
});

/**
 * Every built-in kind's `example` is executed as written: transpiled from TypeScript and run
 * with a real Network in scope, so the catalogue (and the docs generated from it) cannot
 * drift from the API.
 */
describe('catalogue examples run as written', () => {
  function runExample(source: string, net: Network): void {
    const { outputText, diagnostics } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, strict: true },
      reportDiagnostics: true,
    });
    expect(diagnostics ?? []).toEqual([]);
    const scope = { net, nodes, Event: undefined, createEvent, withPayload, withError };
    new Function(...Object.keys(scope), outputText)(...Object.values(scope));
  }

  it.each(builtinKinds.map((k) => [k.name, k] as const))('%s', (name, kind) => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    runExample(kind.example, net);

    // The example adds exactly one node, of this kind and role.
    const added = net.toJSON().nodes;
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: name, role: kind.role });

    // And the node runs: wired between a marble source and a recording sink (sinks are
    // only built: running them would print to stdout), the network starts and drains
    // without breaking.
    const node = added[0].name;
    if (kind.role === 'sink') return;
    const out = t.sink();
    net.add('probe_out', out.node);
    if (kind.role === 'pipeline') {
      net.add('probe_in', t.source('-a-b|', { a: 1, b: 2 }));
      net.link('probe_in', node);
    }
    net.link(node, 'probe_out');
    const report = t.run(net, '3s');
    expect(report.failure).toBeUndefined();
    expect(report.timedOut).toBe(false);
  });
});
