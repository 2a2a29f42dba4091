import * as ts from 'typescript';
import { Network } from 'tributary';
import { WINDOW_SERVICE, windowKinds, windows } from 'tributary/windows';
import { VirtualTime } from 'tributary/testing';
import { entities } from '../../examples/advanced/entities';
import { drivers } from './helpers';

/** Every window kind's catalogue example runs as written, with a store provided and a `sql` in scope. */
describe('window kinds in the catalogue', () => {
  it.each(windowKinds.map((k) => [k.name, k] as const))('%s: its example adds one node of its kind', async (name, kind) => {
    const { store } = await drivers[0].open({ entities });
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    net.provide(WINDOW_SERVICE, store);
    const { outputText, diagnostics } = ts.transpileModule(kind.example, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
    });
    expect(diagnostics ?? []).toEqual([]);
    const scope = { net, windows, sql: 'select count(*) as n from example_bets' };
    new Function(...Object.keys(scope), outputText)(...Object.values(scope));
    const added = net.toJSON().nodes;
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: name, role: kind.role });
    expect(kind.summary.length).toBeGreaterThan(0);
    expect(kind.luaExample).toBeDefined();
  });
});
