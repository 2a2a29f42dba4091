import { BIN, LineProcess, cliHelp, hotReloadUnderLoad } from './group-children';

/**
 * Issue 17, hot reload: `tributary run --watch net.lua` reads a JetStream durable while events
 * are published at ~5k/s; the script file is rewritten 3 times in a row (each version tags its
 * output). Every event must come out (0 lost), and the events processed by two versions —
 * those in flight at a switch — must stay within the source's in-flight cap per switch. The
 * real CLI (bin/tributary.js, the built bundle) against the shared NATS on a fresh stream.
 */
const N = 60_000;
const RATE = 5000;
const CAP = 100;
const VERSIONS = ['v1', 'v2', 'v3', 'v4'];

/** True when the built CLI's `run` takes `--watch`. */
function watchSupported(): boolean {
  return /--watch/.test(cliHelp('run'));
}

const enabled = process.env.TRIBUTARY_NATS_URL !== undefined && watchSupported();
if (!enabled) console.log('hot-reload-watch: set TRIBUTARY_NATS_URL and run `npm run build` (with `run --watch` in the CLI) to run it');
const suite = enabled ? describe : describe.skip;

suite('tributary run --watch: the script is redeployed 3 times under ~5k events/s', () => {
  it('loses nothing; events processed by two versions stay within the in-flight cap per switch', async () => {
    await hotReloadUnderLoad({
      name: 'hot-reload-watch',
      prefix: 'hr',
      tmpPrefix: 'tb-hot-reload-',
      scriptName: 'net.lua',
      count: N,
      rate: RATE,
      cap: CAP,
      versions: VERSIONS,
      processName: 'tributary run --watch',
      how: 'tributary run --watch, script rewritten 3 times',
      start: (c) => {
        c.write(VERSIONS[0]);
        return new LineProcess(0, process.execPath, [BIN, 'run', '--watch', c.file], c.lines);
      },
      switchTo: (c, version) => c.write(version),
    });
  }, 170_000);
});
