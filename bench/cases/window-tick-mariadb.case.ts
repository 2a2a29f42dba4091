/**
 * As window-tick-sqlite on MariaDB/MySQL (TRIBUTARY_MYSQL_URL; each side uses its own
 * database, dropped afterwards). Without the variable each side prints a skip message and a
 * report with `skipped: true`.
 */
const windowTickMariadb = {
  name: 'window-tick-mariadb',
  ours: { label: 'aggregate_window (panes)', script: 'bench/sides/window-tick.ts', args: ['pane', 'mariadb', '10000'] },
  anchor: {
    label: 'time_window with the free SQL (query + expiry)',
    script: 'bench/sides/window-tick.ts',
    args: ['free', 'mariadb', '10000'],
  },
  note: 'target: pane tick ≤ 20 ms (tickMedianMs of ours); needs TRIBUTARY_MYSQL_URL',
};

export default windowTickMariadb;
