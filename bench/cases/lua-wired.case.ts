import { defineCase } from '../case';

export default defineCase({
  name: 'lua-wired',
  ours: { label: 'fan network wired from Lua', script: 'bench/sides/wired.ts', args: ['lua', '1000000'] },
  anchor: { label: 'the same network wired in TypeScript', script: 'bench/sides/wired.ts', args: ['code', '1000000'] },
  target: 1.05,
});
