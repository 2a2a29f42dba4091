local tb = require("tributary")

-- The last bet with a stake >= 100 on game 654321, queried on every incoming bet.
local query = [[
select
	round(stake*exchange_rate, 2) as stake,
	customer_uuid,
	game_id
from
	example_bets b
join example_selections s on
	b.uuid = s.bet_uuid
where
	stake*exchange_rate >= 100
	and game_id = 654321
order by
	b.create_time desc, s.id desc
limit 1
]]

-- every bet is inserted (with its selections) before it goes on to the query
tb.create_window("bets_window")
tb.query_window("window_query2", query)
tb.create_filter("dedupe_stake", "10s")

tb.link("streaming_ingest", "bets_window")
tb.link("bets_window", "window_query2")
tb.link("window_query2", "dedupe_stake")
tb.link("dedupe_stake", "liability_printer")
