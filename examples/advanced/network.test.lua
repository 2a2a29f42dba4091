-- Marble tests of network.lua and network2.lua on embedded SQLite and a virtual clock:
--   npx tributary test examples/advanced
-- The host module adds streaming_ingest and liability_printer and registers the entities,
-- as `tributary run --require host.ts` does.

local A = "76d17c9e-734b-452c-a5ee-852d1e6261bd" -- the high-stake customer
local B = "66440a98-a92a-4ce0-a5aa-d851a6f288d9"

-- A bet payload as the host's generator makes it; t_ms is when it is placed (virtual ms).
local function bet(n, customer, stake, game, t_ms)
  return {
    uuid = string.format("00000000-0000-4000-a000-%012d", n),
    customer_uuid = customer,
    stake = stake,
    currency = "USD",
    exchange_rate = 1,
    odds = 1.23,
    create_time = t_ms // 1000,
    selections = { { game_id = game, market_id = "moneyline/home", odds = 1.23 } },
  }
end

-- Six bets of 100 by A on game 654321 (liability 6 × 23 = 138 > 130) every 100 ms from
-- 100 ms, a small bet by B at 700 ms, and a seventh by A at 1.5 s (161).
local bets = {
  a = bet(1, A, 100, 654321, 100),
  b = bet(2, A, 100, 654321, 200),
  c = bet(3, A, 100, 654321, 300),
  d = bet(4, A, 100, 654321, 400),
  e = bet(5, A, 100, 654321, 500),
  f = bet(6, A, 100, 654321, 600),
  g = bet(7, B, 5, 123456, 700),
  h = bet(8, A, 100, 654321, 1500),
}
local six_bets = "100ms a 99ms b 99ms c 99ms d 99ms e 99ms f 99ms g"

return {
  script = "network.lua",
  require = "host.ts",
  cases = {
    {
      name = "alerts when a customer's liability on a game over the last 10 s exceeds 130, once per row per 10 s",
      run = "5s",
      inputs = { streaming_ingest = { marbles = six_bets .. " 799ms h", values = bets } },
      expect = {
        -- the window runs its query every second; the filter drops the 138 row it saw at 1 s
        liability_printer = {
          marbles = "1s x 999ms y",
          values = {
            x = { customer_uuid = A, game_id = 654321, liability = 138 },
            y = { customer_uuid = A, game_id = 654321, liability = 161 },
          },
        },
      },
      -- each bet is acked once its row is committed
      acks = { streaming_ingest = { marbles = six_bets .. " 799ms h", values = bets } },
      stats = {
        customer_liability = { ["in"] = 8, errors = 0 },
        dedupe_liability = { dropped = 3, out = 2 },
      },
    },
    {
      name = "a small customer never crosses 130",
      run = "3s",
      inputs = {
        streaming_ingest = {
          marbles = "100ms p 99ms q 99ms r",
          values = { p = bet(11, B, 5, 123456, 100), q = bet(12, B, 5, 123456, 200), r = bet(13, B, 5, 123456, 300) },
        },
      },
      expect = { liability_printer = { payloads = {} } },
      stats = { customer_liability = { ["in"] = 3, errors = 0 }, dedupe_liability = { ["in"] = 0 } },
    },
    {
      name = "the seeded bet generator: 200 bets in 10 s, every one stored",
      run = "10s",
      seed = 42,
      stats = { streaming_ingest = { out = 200 }, customer_liability = { ["in"] = 200, errors = 0 } },
    },
  },
}
