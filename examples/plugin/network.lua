-- Uses the sensors plugin:
--   tributary run examples/plugin/network.lua --plugin ./examples/plugin/index.ts --for 1s
local tb = require('tributary')

local n = 0
tb.create_ticker("clock", "100ms")
tb.create_map("readings", function(_)
  n = n + 1
  return { sensor = "s1", temperature = 20 + (n % 5) * 4 }
end)
tb.create_tester("alerts", "")
tb.threshold_to("hot", "temperature", 30, "alerts") -- the plugin's Lua function
tb.link("clock", "readings")
tb.link("readings", "hot")
