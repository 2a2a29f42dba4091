local tb = require("tributary")

-- Customer liability over the last 10 s per customer and game, when above 130.
--
-- Portable SQL: the window binds :window_start (now - 10 s) at every run, in the unit of the
-- time column (create_time: Unix seconds), so this runs on SQLite, MySQL and PostgreSQL alike
-- and follows the network's clock (virtual time in specs).
local portable = [[
select
	customer_uuid,
	game_id,
	round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability
from
	example_bets b
join example_selections s on
	b.uuid = s.bet_uuid
where
	b.create_time >= :window_start
group by
	customer_uuid,
	game_id
having
	liability > 130
]]

-- The original's MySQL-only SQL (it reads the database clock).
local mysql = [[
select
	customer_uuid,
	game_id,
	round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability
from
	example_bets b
join example_selections s on
	b.uuid = s.bet_uuid
where
	FROM_UNIXTIME(b.create_time) >= now() - interval 10 second
group by
	customer_uuid,
	game_id
having
	liability > 130
]]

local query = portable
if tb.window_driver() == "mysql" then
	query = mysql
end

-- input node, output node, query, table for clean-up, window, Unix-time column;
-- the query runs every second over the last 10 s (the default would be every 10 s)
tb.sliding_window_time("customer_liability", "window_out", query, "example_bets", "10s", "create_time", { every = "1s" })

-- the same alert at most once per 10 s, remembered in the window database
tb.create_filter("dedupe_liability", "10s")

-- setup network
tb.link("streaming_ingest", "customer_liability")
tb.link("window_out", "dedupe_liability")
tb.link("dedupe_liability", "liability_printer")
