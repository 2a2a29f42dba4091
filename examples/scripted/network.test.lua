-- Marble tests of network.lua, run by `tributary test` on virtual time:
--   npx tributary test examples/scripted
-- A test file is a Lua chunk returning a table: the script under test and its cases.

return {
  script = "network.lua",
  cases = {
    {
      name = "prints 25 dots in 10 virtual seconds",
      run = "10s",
      output = string.rep(".", 25),
      stats = {
        ticker_500ms = { out = 20 },
        filter_2s = { ["in"] = 20, out = 5, dropped = 15 },
        tick_printer = { ["in"] = 25 },
      },
    },
    {
      name = "the rate limit lets a tick through only when the last one it let through is 2 s old",
      run = "10s",
      -- a tick's payload is its time in ms; a marble value is one character
      values = { a = 500, b = 2500, c = 4500, d = 6500, e = 8500 },
      expect = {
        -- 500 ms, then every 2 s (the drain completes the branch at 10 s)
        filter_2s = "500ms a 1999ms b 1999ms c 1999ms d 1999ms e 1499ms |",
      },
    },
    {
      name = "with its ticker replaced by marbles, the printer sees both branches",
      run = "3s",
      inputs = {
        -- ticks at 0, 1 s, 2 s and 2.5 s
        ticker_500ms = { marbles = "a 999ms b 999ms c 499ms d|", values = { a = 0, b = 1000, c = 2000, d = 2500 } },
      },
      expect = {
        -- a group like (aa) spans as many frames as it has characters
        tick_printer = { marbles = "(aa) 996ms b 999ms (cc) 496ms d|", values = { a = 0, b = 1000, c = 2000, d = 2500 } },
        filter_2s = { payloads = { 0, 2000 } },
      },
      -- every input event was acked once both branches were done with it (the fan-out splits
      -- its delivery: the printer acks 6 branch copies, the filter the 2 it dropped)
      acks = { ticker_500ms = { marbles = "a 999ms b 999ms c 499ms d", values = { a = 0, b = 1000, c = 2000, d = 2500 } } },
      stats = { filter_2s = { dropped = 2, acked = 2 }, tick_printer = { acked = 6, nacked = 0 } },
    },
  },
}
