import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';

/** A network file: input → score (a Lua map failing on `fail`) → [delay] → reply (and optionally a file sink). */
export function networkFile(dir: string, o: { delay?: string; file?: string; reply?: boolean } = {}): string {
  const nodes = [
    '  - name: in\n    kind: stdin_source',
    `  - name: score\n    kind: map\n    options:\n      fn: |\n        function(e)\n          if e.fail then error("cannot score " .. tostring(e.n)) end\n          return { n = e.n, score = e.n * 2 }\n        end`,
  ];
  const edges = [];
  let last = 'score';
  edges.push('  - { from: in, to: score }');
  if (o.delay) {
    nodes.push(`  - name: slow\n    kind: delay\n    options:\n      duration: ${o.delay}`);
    edges.push(`  - { from: ${last}, to: slow }`);
    last = 'slow';
  }
  const sinks: string[] = [];
  if (o.reply !== false) {
    nodes.push('  - name: answer\n    kind: reply');
    sinks.push('answer');
  }
  if (o.file) {
    nodes.push(`  - name: done\n    kind: file_sink\n    options:\n      path: ${JSON.stringify(o.file)}`);
    sinks.push('done');
  }
  if (sinks.length === 1) edges.push(`  - { from: ${last}, to: ${sinks[0]} }`);
  else for (const s of sinks) edges.push(`  - { from: ${last}, to: ${s} }`);
  const file = path.join(dir, 'net.yaml');
  writeFileSync(file, `nodes:\n${nodes.join('\n')}\nedges:\n${edges.join('\n')}\n`);
  return file;
}

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'tb-serve-'));
}

/** Collects what the CLI writes. */
export function collector(): { write(t: string): boolean; text(): string; stream: PassThrough } {
  let text = '';
  const stream = new PassThrough();
  return {
    write: (t: string) => {
      text += t;
      return true;
    },
    text: () => text,
    stream,
  };
}

/** Polls `check` until it returns a value (not undefined) or `ms` passed. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, ms = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The ports `serve` printed on stderr. */
export function ports(stderr: string): { port: number; maintenance?: number } | undefined {
  const m = /serving POST http:\/\/[^:]+:(\d+)\//.exec(stderr);
  if (!m) return undefined;
  const mm = /maintenance http:\/\/[^:]+:(\d+)\//.exec(stderr);
  return { port: Number(m[1]), ...(mm ? { maintenance: Number(mm[1]) } : {}) };
}

/** POSTs a body; resolves to status, headers and parsed JSON. */
export async function post(url: string, body: string): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}
