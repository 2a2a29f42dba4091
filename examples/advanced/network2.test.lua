-- Marble tests of network2.lua (every bet stored by create_window, then a query_window for the
-- latest big bet on game 654321, deduplicated over 10 s), on embedded SQLite and a virtual clock.

local A = "76d17c9e-734b-452c-a5ee-852d1e6261bd"
local B = "66440a98-a92a-4ce0-a5aa-d851a6f288d9"

local function bet(n, customer, stake, game, t_ms)
  return {
    uuid = string.format("00000000-0000-4000-b000-%012d", n),
    customer_uuid = customer,
    stake = stake,
    currency = "USD",
    exchange_rate = 1,
    odds = 1.23,
    create_time = t_ms // 1000,
    selections = { { game_id = game, market_id = "moneyline/home", odds = 1.23 } },
  }
end

local bets = {
  s = bet(1, B, 5, 654321, 100), -- small: no row yet
  a = bet(2, A, 100, 654321, 200), -- the first big bet on 654321
  t = bet(3, B, 5, 123456, 300), -- the same row again: dropped by the 10 s filter
  b = bet(4, A, 250, 654321, 400), -- a bigger one: a new row
}

return {
  script = "network2.lua",
  require = "host.ts",
  cases = {
    {
      name = "prints the latest big bet on game 654321 whenever it changes",
      run = "2s",
      inputs = { streaming_ingest = { marbles = "100ms s 99ms a 99ms t 99ms b|", values = bets } },
      expect = {
        liability_printer = {
          marbles = "200ms x 199ms y",
          values = {
            x = { stake = 100, customer_uuid = A, game_id = 654321 },
            y = { stake = 250, customer_uuid = A, game_id = 654321 },
          },
        },
      },
      stats = {
        bets_window = { ["in"] = 4, errors = 0 },
        window_query2 = { dropped = 1 },
        dedupe_stake = { dropped = 1, out = 2 },
      },
    },
  },
}
