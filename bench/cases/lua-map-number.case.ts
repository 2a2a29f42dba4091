import { defineCase } from '../case';

export default defineCase({
  name: 'lua-map-number',
  ours: { label: 'Lua map (number payload)', script: 'bench/sides/lua-map.ts', args: ['lua', 'number', '1000000'] },
  anchor: { label: 'the same map as a JS function', script: 'bench/sides/lua-map.ts', args: ['js', 'number', '1000000'] },
  target: 3,
});
