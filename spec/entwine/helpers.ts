import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';

/** A fresh temporary directory. */
export function tempDir(prefix = 'tb-entwine-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An Ed25519 key pair, also written as PEM files (private PKCS#8, public SPKI) in `dir`. */
export function keyPair(
  dir: string,
  name: string,
): { privateKey: KeyObject; publicKey: KeyObject; privatePath: string; publicPath: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = join(dir, `${name}.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicKey, privatePath, publicPath };
}

/** Waits (yielding to I/O) until `check` holds; fails after `ms` of real time. */
export async function until(check: () => boolean | Promise<boolean>, what = 'condition', ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A virtual clock a ticker can run on: `advance(ms)` runs what falls due. */
export function virtualClock(): { scheduler: VirtualTimeScheduler; advance(ms: number): void } {
  const scheduler = new VirtualTimeScheduler();
  let now = 0;
  return {
    scheduler,
    advance(ms: number) {
      now += ms;
      scheduler.maxFrames = now;
      scheduler.flush();
    },
  };
}
