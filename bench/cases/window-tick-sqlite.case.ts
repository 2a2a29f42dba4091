/**
 * The advanced example's liability per customer and game (join of bets and selections, group
 * by, having) every second over a 10 s window holding 100,000 bets, on an SQLite file: the
 * pane-based aggregate_window against the free-SQL time_window (query + expiry delete) on
 * the same stream. Each side reports its per-tick median and max in ms (tickMedianMs,
 * tickMaxMs; target ≤ 5 ms for the pane window) and cpuMs; `ms` is the 10 timed ticks.
 */
const windowTickSqlite = {
  name: 'window-tick-sqlite',
  ours: { label: 'aggregate_window (panes)', script: 'bench/sides/window-tick.ts', args: ['pane', 'sqlite', '10000'] },
  anchor: {
    label: 'time_window with the free SQL (query + expiry)',
    script: 'bench/sides/window-tick.ts',
    args: ['free', 'sqlite', '10000'],
  },
  note: 'target: pane tick ≤ 5 ms (tickMedianMs of ours), independent of rows per pane (run with 1000 for comparison)',
};

export default windowTickSqlite;
