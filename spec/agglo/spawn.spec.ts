import fs from 'node:fs';
import { agglo } from '../../lib/agglo/index';
import { Network } from 'tributary';
import { LuaRuntime } from '../../lib/lua/index';
import { aggloPlugin } from '../../lib/agglo/plugin';
import { jsonScript, script } from './exec-support';
import { nackReasons, runChain } from './support';

describe('spawn', () => {
  const enrich = jsonScript('enrich', '(e) => ({ seen: e.n, args: process.argv.slice(2) })');

  it('doSync: runs the program with the event on stdin and appends { name: output } to internal:spawn:output', async () => {
    const run = await runChain(
      [
        ['s1', agglo.spawn({ name: 'enrich', doSync: true, job: { runnable: { pathToExec: enrich, cmdArgs: ['-v', 'x'] } } })],
        ['s2', agglo.spawn({ doSync: true, job: { runnable: { pathToExec: enrich } } })],
      ],
      [{ n: 1 }],
      { allowExec: true },
    );
    expect(run.out).toEqual([
      { n: 1, 'internal:spawn:output': [{ enrich: { seen: 1, args: ['-v', 'x'] } }, { s2: { seen: 1, args: [] } }] },
    ]);
  });

  it('runs only when the condition holds', async () => {
    const cond = { exists: { ops: [{ key: 'go', op: 'Exists' }] } };
    const run = await runChain(
      [['s', agglo.spawn({ name: 'e', condition: cond, doSync: true, job: { runnable: { pathToExec: enrich } } })]],
      [{ n: 1 }, { n: 2, go: true }],
      { allowExec: true },
    );
    expect(run.out).toEqual([{ n: 1 }, { n: 2, go: true, 'internal:spawn:output': [{ e: { seen: 2, args: [] } }] }]);
  });

  it('fire-and-forget: the event goes on unchanged and the program still runs', async () => {
    const marker = `${fs.mkdtempSync('/tmp/agglo-proc-spawn-')}/done`;
    const writer = script(
      'writer',
      `let s='';process.stdin.on('data',d=>s+=d);process.stdin.on('end',()=>require('fs').writeFileSync(${JSON.stringify(marker)}, s));`,
    );
    const run = await runChain([['s', agglo.spawn({ job: { runnable: { pathToExec: writer } } })]], [{ n: 7 }], { allowExec: true });
    expect(run.out).toEqual([{ n: 7 }]);
    for (let i = 0; i < 200 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    expect(JSON.parse(fs.readFileSync(marker, 'utf8'))).toEqual({ n: 7 });
  });

  it('a program that runs past timeoutMs is killed and the event fails', async () => {
    const hang = script('hang', 'setInterval(() => {}, 1000);');
    const run = await runChain([['s', agglo.spawn({ doSync: true, timeoutMs: 300, job: { runnable: { pathToExec: hang } } })]], [{}], {
      allowExec: true,
    });
    expect(nackReasons(run)).toEqual([`${hang} timed out after 300ms (killed)`]);
  });

  it('output that is not JSON, or a missing program, is an error event', async () => {
    const text = script('text', "process.stdout.write('hello');");
    const run = await runChain([['s', agglo.spawn({ doSync: true, job: { runnable: { pathToExec: text } } })]], [{}], { allowExec: true });
    expect(nackReasons(run)).toEqual([`${text} did not write JSON on stdout: "hello"`]);
    const missing = await runChain([['s', agglo.spawn({ doSync: true, job: { runnable: { pathToExec: '/nonexistent/prog' } } })]], [{}], {
      allowExec: true,
    });
    expect(nackReasons(missing)[0]).toMatch(/^cannot run \/nonexistent\/prog: .*ENOENT/);
  });

  it('is refused unless the network allows exec, from TypeScript and from Lua', async () => {
    await expect(runChain([['s', agglo.spawn({ job: { runnable: { pathToExec: enrich } } })]], [{}])).rejects.toThrow(
      "node 's' (spawn) runs executables, which this network does not allow: start it with new Network({ allowExec: true }) or `tributary run --allow-exec`",
    );
    const net = new Network({ plugins: [aggloPlugin] });
    const lua = new LuaRuntime(net, { allowFiles: true });
    try {
      lua.runString(
        `local tb = require('tributary')\ntb.create_from("in", { items = { { n = 1 } } })\ntb.create_spawn("s", { job = { runnable = { pathToExec = "${enrich}" } } })\ntb.create_discarder("out")\ntb.link("in", "s")\ntb.link("s", "out")`,
      );
    } finally {
      lua.close();
    }
    await expect(net.start()).rejects.toThrow("node 's' (spawn) runs executables, which this network does not allow");
  });

  it('needs job.runnable.pathToExec', () => {
    expect(() => agglo.spawn({ name: 'S', job: { runnable: {} } })).toThrow("spawn 'S': job.runnable.pathToExec: is required");
    expect(() => agglo.spawn({ job: { runnable: { path: 'x' } } })).toThrow(
      "unknown field 'path' in Runnable (fields: pathToExec, cmdArgs)",
    );
  });
});
