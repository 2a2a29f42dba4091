import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Writes an executable node script to a fresh temporary directory; returns its path. */
export function script(name: string, body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agglo-proc-exec-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A script reading JSON from stdin and writing `fn(input)` as JSON. */
export function jsonScript(name: string, fn: string): string {
  return script(
    name,
    `let s='';process.stdin.on('data',d=>s+=d);process.stdin.on('end',()=>{const input=JSON.parse(s);process.stdout.write(JSON.stringify((${fn})(input)));});`,
  );
}
