// The group commands end to end, in process, against the local NATS server: deploy refuses a
// script that does not build; an agent runs what is deployed, replaces it when a new version
// is deployed (old drained first), stops it on undeploy; ps shows who runs what.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { agentCommand } from '../../lib/cli/commands/agent';
import { main } from '../../lib/cli/program';
import type { PsReport } from '../../lib/cli/commands/ps';
import { listScripts } from '../../lib/cluster/deploy';
import { groupBucket, scriptsBucket } from '../../lib/cluster/types';
import { collector, natsScratch, poller } from './helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;

const until = poller(30_000, 50);

async function cli(...args: string[]) {
  const stdout = collector();
  const stderr = collector();
  const code = await main(['node', 'tributary', ...args], { stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const script = (out: string, tag: string) =>
  `local tb = require('tributary')\ntb.create_ticker('t', '10ms')\n` +
  `tb.create_map('tag', function(n) return { v = '${tag}' } end)\n` +
  `tb.create_file_sink('out', '${out}')\ntb.link('t', 'tag')\ntb.link('tag', 'out')\n`;

suite(`tributary deploy / agent / ps / undeploy against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  const group = `spec-cli-${process.pid}-${Date.now()}`;
  const scratch = natsScratch(URL, 'tributary-deploy-', {
    cleanup: () => [scriptsBucket(group), groupBucket(group)].map((b) => `KV_${b}`),
  });

  it('usage errors name the flag', async () => {
    const { dir } = scratch;
    const r = await cli('deploy', path.join(dir, 'x.lua'), '--group', 'a.b');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--group a.b: letters, digits, _ and - only');
    const r1 = await cli('deploy', path.join(dir, 'x.lua'), '--group', 'g', '--partitions', '2000');
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--partitions 2000: a whole number from 1 to 1024');
    const r2 = await cli('run', path.join(dir, 'x.lua'), '--partitions', '4');
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--partitions needs --group <name>');
    const r3 = await cli('ps');
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain("required option '--group <name>' not specified");
    const r4 = await cli('undeploy', 'nothing-here', '--group', group, '--nats', URL!);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain(`no script 'nothing-here' is deployed to group ${group}`);
    const empty = await cli('ps', '--group', `${group}-none`, '--nats', URL!);
    expect(empty).toMatchObject({ code: 0, stdout: `group ${group}-none: 0 members\n` });
    const r5 = await cli('ps', '--group', 'g', '--nats', 'nats://user:s3cret@127.0.0.1:1');
    expect(r5.code).toBe(1);
    expect(r5.stderr).toContain('cannot connect to NATS at nats://user:***@127.0.0.1:1');
    expect(r5.stderr).not.toContain('s3cret');
  });

  it('deploy refuses a script that does not build and stores nothing', async () => {
    const { nc, dir } = scratch;
    const bad = path.join(dir, 'bad.lua');
    writeFileSync(bad, "local tb = require('tributary')\ntb.create_nonsense('x')\n");
    const r = await cli('deploy', bad, '--group', group, '--nats', URL!);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.lua does not build; not deployed: bad\.lua:2: /);
    expect(await listScripts(nc, group)).toEqual([]);
  });

  it('an agent runs the deployed script, swaps versions on redeploy, stops it on undeploy; ps shows it', async () => {
    const { dir } = scratch;
    const out = path.join(dir, 'out.ndjson');
    const file = path.join(dir, 'ticks.lua');
    const tags = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean) : []).map((l) => JSON.parse(l).v);
    writeFileSync(file, script(out, 'one'));
    const d1 = await cli('deploy', file, '--group', group, '--nats', URL!, '--allow-files');
    expect(d1).toMatchObject({ code: 0, stdout: `deployed ticks version 1 to group ${group}\n` });

    const stop = new AbortController();
    const stderr = collector();
    const agent = agentCommand(
      { group, nats: URL, leaseTimeout: '1s', allowFiles: true, memberId: 'agent-a', logLevel: 'silent', signal: stop.signal },
      { stdout: collector(), stderr },
    );
    try {
      await until('version one running', () => tags().length >= 3);
      let ps: PsReport | undefined;
      await until('ps to show the unit with its counters', async () => {
        const r = await cli('ps', '--group', group, '--nats', URL!, '--json');
        ps = JSON.parse(r.stdout) as PsReport;
        return (ps.units[0]?.stats?.in ?? 0) > 0;
      });
      expect(ps!.members.map((m) => m.id)).toEqual(['agent-a']);
      expect(ps!.units[0]).toMatchObject({ unit: 'ticks', owner: 'agent-a', deployed: 1, stats: { version: 1 } });
      const text = await cli('ps', '--group', group, '--nats', URL!);
      expect(text.stdout).toMatch(/^group .*: 1 member\n/);
      expect(text.stdout).toMatch(/\nticks +agent-a +1 +\d+ +\d+ +0 +[\d.]+\n/);

      writeFileSync(file, script(out, 'two'));
      const d2 = await cli('deploy', file, '--group', group, '--nats', URL!, '--allow-files');
      expect(d2.stdout).toBe(`deployed ticks version 2 to group ${group}\n`);
      await until('version two running', () => tags().includes('two'));
      const seen = tags();
      expect(seen.lastIndexOf('one')).toBeLessThan(seen.indexOf('two'));

      expect((await cli('undeploy', 'ticks', '--group', group, '--nats', URL!)).code).toBe(0);
      await until('the unit gone from ps', async () => {
        const r = JSON.parse((await cli('ps', '--group', group, '--nats', URL!, '--json')).stdout) as PsReport;
        return r.units.length === 0 && r.members.length === 1 && r.members[0].units === 0;
      });
      const n = tags().length;
      await new Promise((r) => setTimeout(r, 200));
      expect(tags().length).toBe(n);
    } finally {
      stop.abort();
    }
    expect(await agent).toBe(0);
    expect(stderr.text()).toContain(`member agent-a joined group ${group}`);
    const after = JSON.parse((await cli('ps', '--group', group, '--nats', URL!, '--json')).stdout) as PsReport;
    expect(after.members).toEqual([]);
  });
});
