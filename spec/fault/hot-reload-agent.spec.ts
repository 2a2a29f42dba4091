import { spawnSync } from 'node:child_process';
import { groupBucket, scriptsBucket } from '../../lib/cluster/types';
import { BIN, LineProcess, cliHelp, hotReloadUnderLoad, type ReloadContext } from './group-children';

/**
 * Issue 17, hot reload through the catalog: `tributary agent --group g` runs what
 * `tributary deploy` stored; while events are published at ~5k/s the script is deployed again
 * 3 times in a row (each version tags its output). Every event must come out (0 lost), and the
 * events processed by two versions — those in flight at a switch — must stay within the
 * source's in-flight cap per switch. The real CLI (bin/tributary.js, the built bundle) against
 * the shared NATS on a fresh stream and fresh buckets.
 */
const N = 60_000;
const RATE = 5000;
const CAP = 100;
const VERSIONS = ['v1', 'v2', 'v3', 'v4'];

/** True when the built CLI has `agent` and `deploy`. */
function agentSupported(): boolean {
  // An unknown command prints the general help: look for the command's own usage line.
  return ['agent', 'deploy'].every((c) => cliHelp(c).includes(`tributary ${c}`));
}

const enabled = process.env.TRIBUTARY_NATS_URL !== undefined && agentSupported();
if (!enabled)
  console.log('hot-reload-agent: set TRIBUTARY_NATS_URL and run `npm run build` (with `agent` and `deploy` in the CLI) to run it');
const suite = enabled ? describe : describe.skip;

/** The group the agent of a run serves. */
const groupOf = (tag: string) => `hra_${tag}`;

/** Writes the script of `version` and deploys it to the run's group as `tagger`. */
function deploy(c: ReloadContext, version: string): void {
  c.write(version);
  const r = spawnSync(process.execPath, [BIN, 'deploy', c.file, '--name', 'tagger', '--group', groupOf(c.tag)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tributary deploy (${version}) exited ${r.status}: ${r.stderr}`);
}

suite('tributary agent: the script is deployed again 3 times under ~5k events/s', () => {
  it('loses nothing; events processed by two versions stay within the in-flight cap per switch', async () => {
    await hotReloadUnderLoad({
      name: 'hot-reload-agent',
      prefix: 'hra',
      tmpPrefix: 'tb-hot-reload-agent-',
      scriptName: 'tagger.lua',
      count: N,
      rate: RATE,
      cap: CAP,
      versions: VERSIONS,
      processName: 'tributary agent',
      how: 'tributary agent, script deployed again 3 times',
      start: (c) => {
        deploy(c, VERSIONS[0]);
        return new LineProcess(0, process.execPath, [BIN, 'agent', '--group', groupOf(c.tag), '--lease-timeout', '5s'], c.lines);
      },
      switchTo: deploy,
      streams: (tag) => [`KV_${groupBucket(groupOf(tag))}`, `KV_${scriptsBucket(groupOf(tag))}`],
    });
  }, 170_000);
});
