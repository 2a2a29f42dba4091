import { defineCase } from '../case';

export default defineCase({
  name: 'lua-map-number-vm',
  ours: {
    label: 'Lua map (number payload, compiling off: on the VM)',
    script: 'bench/sides/lua-map.ts',
    args: ['vm', 'number', '1000000'],
  },
  anchor: { label: 'the same map as a JS function', script: 'bench/sides/lua-map.ts', args: ['js', 'number', '1000000'] },
  note: 'what a Lua call costs when it cannot be compiled (loops, other functions)',
});
