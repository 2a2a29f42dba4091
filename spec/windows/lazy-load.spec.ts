import { execFileSync } from 'node:child_process';
import path from 'node:path';

describe('TypeORM loads lazily', () => {
  it("importing 'tributary' and 'tributary/windows' and building window nodes does not load typeorm; opening a store does", () => {
    const root = path.join(__dirname, '..', '..');
    const script = `
      require('./lib/index');
      const { windows, openWindowStore } = require('./lib/windows/index');
      windows.timeWindow({ sql: 'select 1', table: 't', duration: '10s', timeColumn: 'at' });
      const before = Object.keys(require.cache).some((f) => f.includes('/node_modules/typeorm/'));
      openWindowStore({ url: 'sqlite::memory:' }).then(async (store) => {
        const after = Object.keys(require.cache).some((f) => f.includes('/node_modules/typeorm/'));
        await store.close();
        process.stdout.write(JSON.stringify({ before, after }));
      });`;
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, after: true });
  }, 30_000);
});
