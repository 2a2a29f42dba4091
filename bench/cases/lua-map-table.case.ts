import { defineCase } from '../case';

export default defineCase({
  name: 'lua-map-table',
  ours: { label: 'Lua map (table payload)', script: 'bench/sides/lua-map.ts', args: ['lua', 'table', '1000000'] },
  anchor: { label: 'the same map as a JS function', script: 'bench/sides/lua-map.ts', args: ['js', 'table', '1000000'] },
  target: 10,
});
