import { defineCase } from '../case';

export default defineCase({
  name: 'lua-map-table-vm',
  ours: { label: 'Lua map (table payload, compiling off: on the VM)', script: 'bench/sides/lua-map.ts', args: ['vm', 'table', '1000000'] },
  anchor: { label: 'the same map as a JS function', script: 'bench/sides/lua-map.ts', args: ['js', 'table', '1000000'] },
  note: 'what a Lua call costs when it cannot be compiled (loops, other functions)',
});
