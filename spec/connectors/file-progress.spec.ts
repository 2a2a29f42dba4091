import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Network, nodes, type NodeProgress } from 'tributary';
import { connectors } from 'tributary/connectors';
import { captureLogger } from './helpers';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-progress-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('file_source progress (net.progress())', () => {
  it('reports the bytes of the records it consumed, of the file size, and its events in flight', async () => {
    const file = path.join(dir, 'bets.ndjson');
    const lines = ['{"id":1}', '{"id":22}', '', '{"id":333}'];
    const text = lines.join('\r\n') + '\n';
    fs.writeFileSync(file, text);
    const seen: { id: number; progress: NodeProgress }[] = [];
    const net = new Network({ logger: captureLogger() });
    net.add('in', connectors.fileSource({ path: file, maxInFlight: 10 }));
    net.add('out', nodes.sink({ fn: (p: { id: number }) => void seen.push({ id: p.id, progress: { ...net.progress().in } }) }));
    net.link('in', 'out');
    expect(net.progress()).toEqual({});
    await net.start();
    await net.done();
    // While a record is in the sink, the bytes up to and including its line ending were read.
    const end = (n: number) => Buffer.byteLength(lines.slice(0, n).join('\r\n') + '\r\n');
    expect(seen).toEqual([
      { id: 1, progress: { inFlight: 1, read: end(1), total: text.length, lag: text.length - end(1), unit: 'bytes' } },
      { id: 22, progress: { inFlight: 1, read: end(2), total: text.length, lag: text.length - end(2), unit: 'bytes' } },
      { id: 333, progress: { inFlight: 1, read: text.length, total: text.length, lag: 0, unit: 'bytes' } },
    ]);
    expect(net.progress().in).toEqual({ inFlight: 0, read: text.length, total: text.length, lag: 0, unit: 'bytes' });
  });

  it('a last line without a line ending counts to the end of the file; multi-byte characters count as bytes', async () => {
    const file = path.join(dir, 'names.csv');
    const text = 'name\nZoë\nJürgen';
    fs.writeFileSync(file, text);
    const net = new Network({ logger: captureLogger() });
    net.add('in', connectors.fileSource({ path: file }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    await net.done();
    expect(net.progress().in).toMatchObject({ read: Buffer.byteLength(text), total: Buffer.byteLength(text), lag: 0 });
  });

  it('a missing file reports no size: read 0, no total', async () => {
    const net = new Network({ logger: captureLogger() });
    net.add('in', connectors.fileSource({ path: path.join(dir, 'nope.ndjson') }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    await net.done();
    expect(net.progress().in).toEqual({ inFlight: 0, read: 0, unit: 'bytes' });
  });

  it('stdin_source reports bytes read without a total', async () => {
    const input = new PassThrough();
    const net = new Network({ logger: captureLogger() });
    net.add('in', connectors.stdinSource({ input }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    input.end('{"a":1}\n{"a":2}\n');
    await net.done();
    expect(net.progress().in).toEqual({ inFlight: 0, read: 16, unit: 'bytes' });
  });

  it('an injector with flow control reports its events in flight; sources without any report nothing', async () => {
    const net = new Network({ logger: captureLogger() });
    let inFlightSeen: number | undefined;
    net.add('tracked', nodes.from({ items: [1, 2, 3], maxInFlight: 2 }));
    net.add('plain', nodes.from({ items: [4] }));
    net.add('out', nodes.sink({ fn: () => void (inFlightSeen = net.progress().tracked?.inFlight) }));
    net.fanin('out', 'tracked', 'plain');
    await net.start();
    await net.done();
    expect(inFlightSeen).toBeGreaterThanOrEqual(1);
    expect(net.progress()).toEqual({ tracked: { inFlight: 0 } });
  });
});
