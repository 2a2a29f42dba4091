import { TestScheduler } from 'rxjs/testing';
import { Network } from 'tributary';
import { VirtualTime } from 'tributary/testing';
import { agglo } from '../../lib/agglo/index';
import { rfc3339 } from '../../lib/agglo/annotate';
import { withRetry, STOP, asMap } from '../../lib/agglo/process';
import { createEvent } from '../../lib/event';
import { aggloPlugin } from '../../lib/agglo/plugin';
import { nackReasons, runChain } from './support';

const eq = (name: string, literal: string) => ({
  expression: { comparator: { lhs: { variable: { name } }, rhs: { literal }, op: 'Equal' } },
});

describe('annotate', () => {
  it('adds each annotation whose condition holds, in order (later conditions see earlier annotations)', async () => {
    const run = await runChain(
      [
        [
          'mark',
          agglo.annotate({
            annotations: [
              { fieldKey: 'foobar', value: 'found', condition: eq('someDict.someFixed', 'foobar') },
              { fieldKey: 'second', value: 'yes', condition: eq('foobar', 'found') },
              { fieldKey: 'always', value: 'x' },
            ],
          }),
        ],
      ],
      [{ someDict: { someFixed: 'foobar' } }, { someDict: { someFixed: 'other' } }],
    );
    expect(run.out).toEqual([
      { someDict: { someFixed: 'foobar' }, foobar: 'found', second: 'yes', always: 'x' },
      { someDict: { someFixed: 'other' }, always: 'x' },
    ]);
    expect(run.log.every((s) => s.acked)).toBe(true);
  });

  it('refuses to overwrite a field that is there (an error event, nacked), as agglo', async () => {
    const run = await runChain([['mark', agglo.annotate({ annotations: [{ fieldKey: 'a', value: 'x' }] })]], [{ a: 1 }, { b: 1 }]);
    expect(run.out).toEqual([{ b: 1, a: 'x' }]);
    expect(nackReasons(run)).toEqual(["field exists: cannot annotate with field 'a'"]);
  });

  it('derived:currentTime is the scheduler time, RFC 3339 UTC to the second', () => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler, plugins: [aggloPlugin] });
    net.add('in', t.source('a 1999ms b|', { a: { n: 1 }, b: { n: 2 } }));
    net.add('mark', agglo.annotate({ annotations: [{ fieldKey: 'at', value: 'derived:currentTime' }] }));
    const out = t.sink();
    net.add('out', out.node);
    net.link('in', 'mark').link('mark', 'out');
    t.run(net, '5s');
    expect(out.frames.map((f) => f.value)).toEqual([
      { n: 1, at: '1970-01-01T00:00:00Z' },
      { n: 2, at: '1970-01-01T00:00:02Z' },
    ]);
    expect(rfc3339(Date.UTC(2026, 10, 28, 23, 5, 9, 999))).toBe('2026-11-28T23:05:09Z');
  });

  it('rejects bad options naming the field', () => {
    expect(() => agglo.annotate({ annotations: [{ fieldKey: 'a', value: 'b', conditon: {} }] })).toThrow(
      "annotate: annotations[0]: unknown field 'conditon' in Annotation (fields: fieldKey, value, condition) — did you mean 'condition'?",
    );
    expect(() => agglo.annotate({ name: 'A', annotations: [{ value: 'b' }] })).toThrow(
      "annotate 'A': annotations[0].fieldKey: is required",
    );
    expect(() => agglo.annotate({ annotation: [] } as never)).toThrow("unknown option 'annotation'");
  });
});

describe('agglo_filter', () => {
  const event = { keepA: 1, dropB: 2, nested: { keepC: 3, dropD: 4, keepList: [{ dropE: 1 }] }, 'internal:name': 'p' };
  it('keepMatched: true keeps only matching keys, at every map level (lists are values)', async () => {
    const run = await runChain([['f', agglo.aggloFilter({ regex: 'keep|nested', keepMatched: true })]], [event]);
    expect(run.out).toEqual([{ keepA: 1, nested: { keepC: 3, keepList: [{ dropE: 1 }] } }]);
  });
  it('keepMatched: false removes matching keys (regex searched anywhere in the key)', async () => {
    const run = await runChain([['f', agglo.aggloFilter({ regex: '^internal:|drop', keepMatched: false })]], [event]);
    expect(run.out).toEqual([{ keepA: 1, nested: { keepC: 3, keepList: [{ dropE: 1 }] } }]);
  });
  it('rejects a bad regex naming the option', () => {
    expect(() => agglo.aggloFilter({ name: 'F', regex: '(' })).toThrow('agglo_filter \'F\': regex: invalid regex "("');
  });
});

describe('continue', () => {
  it('passes events whose condition holds; ends the others quietly: acked, counted as dropped, no error', async () => {
    const run = await runChain(
      [['gate', agglo.continueNode({ condition: eq('doTest', 'true') })]],
      [{ doTest: 'true', n: 1 }, { doTest: 'false', n: 2 }, { n: 3 }],
    );
    expect(run.out).toEqual([{ doTest: 'true', n: 1 }]);
    expect(run.log.map((s) => s.acked)).toEqual([true, true, true]);
    const gate = run.net.snapshot().nodes.find((n) => n.name === 'gate')!;
    expect(gate.stats).toMatchObject({ in: 3, out: 1, dropped: 2, errors: 0, acked: 2, nacked: 0 });
    expect(run.logs).toEqual([]);
  });
  it('with no condition passes everything', async () => {
    const run = await runChain([['gate', agglo.continueNode({})]], [{ a: 1 }]);
    expect(run.out).toEqual([{ a: 1 }]);
  });
  it('turns a non-object payload into an error event', async () => {
    const run = await runChain([['gate', agglo.continueNode({})]], [[1, 2]]);
    expect(nackReasons(run)).toEqual(['agglo processes take JSON objects, got a list']);
  });
});

describe('agglo_ingest', () => {
  it('gives every event a fresh UUID in internal:messageID', async () => {
    const run = await runChain([['i', agglo.aggloIngest()]], [{ a: 1 }, { a: 2, 'internal:messageID': 'old' }]);
    const ids = run.out.map((p) => (p as Record<string, string>)['internal:messageID']);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(2);
    expect(ids).not.toContain('old');
  });
});

describe('retryStrategy', () => {
  it('retries a failure numRetries times, the waits doubling from initialBackOffMs on the scheduler', async () => {
    const s = new TestScheduler(() => undefined);
    const attempts: number[] = [];
    const fn = withRetry(
      () => {
        attempts.push(s.now());
        if (attempts.length < 3) throw new Error('down');
        return { ok: true };
      },
      { numRetries: 3, initialBackOffMs: 100 },
      s,
    );
    let result: unknown;
    void Promise.resolve(fn({}, createEvent({}))).then((r) => (result = r));
    for (let i = 0; i < 10 && result === undefined; i++) {
      await new Promise((r) => setImmediate(r));
      s.flush();
    }
    expect(attempts).toEqual([0, 100, 300]);
    expect(result).toEqual({ ok: true });
  });

  it('gives up after numRetries + 1 attempts with the last error', async () => {
    const s = new TestScheduler(() => undefined);
    let n = 0;
    const fn = withRetry(
      () => {
        n++;
        throw new Error(`fail ${n}`);
      },
      { numRetries: 2, initialBackOffMs: 10 },
      s,
    );
    let error: Error | undefined;
    void Promise.resolve(fn({}, createEvent({}))).catch((e: Error) => (error = e));
    for (let i = 0; i < 10 && !error; i++) {
      await new Promise((r) => setImmediate(r));
      s.flush();
    }
    expect(error?.message).toBe('fail 3 (after 3 attempts)');
  });

  it('does not retry a continuation stop (it is not a failure)', async () => {
    const s = new TestScheduler(() => undefined);
    let n = 0;
    const fn = withRetry(
      () => {
        n++;
        return STOP;
      },
      { numRetries: 5, initialBackOffMs: 10 },
      s,
    );
    expect(await fn({}, createEvent({}))).toBe(STOP);
    expect(n).toBe(1);
  });

  it('is an option of every process kind, checked like the rest', () => {
    expect(() => agglo.continueNode({ retryStrategy: { numRetries: 2, initialBackoffMs: 5 } })).toThrow(
      "continue: retryStrategy: unknown field 'initialBackoffMs' in RetryStrategy (fields: numRetries, initialBackOffMs) — did you mean 'initialBackOffMs'?",
    );
    expect(() => agglo.continueNode({ retryStrategy: { numRetries: 2, initialBackOffMs: '100' } })).not.toThrow();
  });

  it('asMap accepts objects only', () => {
    expect(asMap({ a: 1 })).toEqual({ a: 1 });
    expect(() => asMap(null)).toThrow('got null');
  });
});
