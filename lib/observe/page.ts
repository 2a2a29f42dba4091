/**
 * The live page of the operations port, as one HTML document with its style and script inline
 * (no CDN, works offline). It draws the network from `graph.svg` (Graphviz, rendered by the
 * server), then follows `events` (Server-Sent Events, one snapshot a second): each node's
 * counters line shows events/s in and out, errors and in-flight; nodes with errors are marked
 * red, nodes whose in-flight count keeps growing orange; a table lists the same figures.
 * Clicking a node (in the drawing or the table) shows its kind, options (secrets hidden by the
 * server) and last errors, from `nodes/<name>`. A `?token=` in the page's address is passed on.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(livePage('fraud'));
 * ```
 */
export function livePage(title: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t} · Tributary</title>
<style>
  :root { font-family: system-ui, Helvetica, Arial, sans-serif; color: #1d2733; }
  body { margin: 0; }
  header { display: flex; gap: 1.5rem; align-items: baseline; padding: .6rem 1rem; background: #1d2733; color: #fff; }
  header h1 { font-size: 1.1rem; margin: 0; }
  #state { font-weight: 600; }
  #state.running { color: #a6d96a; } #state.stopping, #state.stopped, #state.disconnected { color: #fdae61; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) 22rem; gap: 1rem; padding: 1rem; }
  #graph svg { max-width: 100%; height: auto; }
  #graph g.node { cursor: pointer; }
  #graph g.node.errored polygon, #graph g.node.errored ellipse { stroke: #d7191c; stroke-width: 3; fill: #fde0dd; }
  #graph g.node.backlog polygon, #graph g.node.backlog ellipse { stroke: #f46d43; stroke-width: 3; }
  #graph g.node.selected polygon, #graph g.node.selected ellipse { stroke: #2c7bb6; stroke-width: 3; }
  table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: 1rem; }
  th, td { text-align: right; padding: .2rem .5rem; border-bottom: 1px solid #e3e7ec; }
  th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
  tr.errored td:first-child { color: #d7191c; font-weight: 600; }
  tr.backlog td:first-child { color: #f46d43; font-weight: 600; }
  tbody tr { cursor: pointer; }
  aside { border-left: 1px solid #e3e7ec; padding-left: 1rem; font-size: .85rem; }
  aside pre { white-space: pre-wrap; word-break: break-word; background: #f5f7f9; padding: .5rem; }
  aside .error { color: #d7191c; }
</style>
</head>
<body>
<header><h1>${t}</h1><span>network: <span id="state">connecting</span></span><span id="clock"></span></header>
<main>
  <section>
    <div id="graph">drawing…</div>
    <table id="nodes">
      <thead><tr><th>node</th><th>kind</th><th>in/s</th><th>out/s</th><th>in</th><th>out</th><th>errors</th><th>acked</th><th>nacked</th><th>dropped</th><th>in flight</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <aside id="details"><p>Click a node to see its options and last errors.</p></aside>
</main>
<script>
(() => {
  const token = new URLSearchParams(location.search).get('token');
  const q = token ? '?token=' + encodeURIComponent(token) : '';
  const groups = new Map();
  const rows = new Map();
  let previous;
  const growth = new Map();
  const fmt = (n) => (n >= 100 ? Math.round(n).toString() : n.toFixed(1));
  const el = (tag, text) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; };

  fetch('graph.svg' + q).then((r) => r.text()).then((svg) => {
    const graph = document.getElementById('graph');
    graph.innerHTML = svg;
    for (const g of graph.querySelectorAll('g.node')) {
      const name = (g.id || '').replace(/^node:/, '');
      groups.set(name, g);
      g.setAttribute('data-node', name);
      g.addEventListener('click', () => select(name));
    }
  });

  function select(name) {
    for (const [n, g] of groups) g.classList.toggle('selected', n === name);
    fetch('nodes/' + encodeURIComponent(name) + q).then((r) => r.json()).then((d) => {
      const aside = document.getElementById('details');
      aside.replaceChildren();
      aside.append(el('h2', d.name), el('p', d.role + ' · ' + d.kind));
      aside.append(el('h3', 'options'), el('pre', JSON.stringify(d.options, null, 2)));
      aside.append(el('h3', 'last errors'));
      if (!d.errors || d.errors.length === 0) aside.append(el('p', 'none'));
      else for (const m of d.errors) { const p = el('pre', m); p.className = 'error'; aside.append(p); }
    });
  }

  function update(snap) {
    const state = document.getElementById('state');
    state.textContent = snap.state;
    state.className = snap.state;
    document.getElementById('clock').textContent = new Date().toLocaleTimeString();
    const dt = previous ? Math.max((snap.wall - previous.wall) / 1000, 0.001) : 0;
    const before = new Map(previous ? previous.nodes.map((n) => [n.name, n]) : []);
    const body = document.querySelector('#nodes tbody');
    for (const n of snap.nodes) {
      const p = before.get(n.name);
      const rateIn = p ? (n.stats.in - p.stats.in) / dt : 0;
      const rateOut = p ? (n.stats.out - p.stats.out) / dt : 0;
      const grew = p && n.inFlight > p.inFlight ? (growth.get(n.name) || 0) + 1 : 0;
      growth.set(n.name, grew);
      const errored = n.stats.errors > 0 || n.stats.nacked > 0;
      const backlog = grew >= 3;
      const line = 'in ' + fmt(rateIn) + '/s · out ' + fmt(rateOut) + '/s · err ' + n.stats.errors + ' · in flight ' + n.inFlight;
      const g = groups.get(n.name);
      if (g) {
        const texts = g.querySelectorAll('text');
        if (texts.length) texts[texts.length - 1].textContent = line;
        g.classList.toggle('errored', errored);
        g.classList.toggle('backlog', backlog);
      }
      let row = rows.get(n.name);
      if (!row) {
        row = el('tr');
        row.setAttribute('data-node', n.name);
        row.addEventListener('click', () => select(n.name));
        for (let i = 0; i < 11; i++) row.append(el('td'));
        body.append(row);
        rows.set(n.name, row);
      }
      const cells = [n.name, n.kind, fmt(rateIn), fmt(rateOut), n.stats.in, n.stats.out, n.stats.errors, n.stats.acked, n.stats.nacked, n.stats.dropped, n.inFlight];
      cells.forEach((v, i) => { if (row.children[i].textContent !== String(v)) row.children[i].textContent = String(v); });
      row.classList.toggle('errored', errored);
      row.classList.toggle('backlog', backlog);
    }
    previous = snap;
  }

  const events = new EventSource('events' + q);
  events.onmessage = (m) => update(JSON.parse(m.data));
  events.onerror = () => {
    const state = document.getElementById('state');
    state.textContent = 'disconnected';
    state.className = 'disconnected';
  };
})();
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
