import type { Role } from '../nodes/types';

/** The read-only view of a graph the renderers need. */
export interface GraphView {
  /** Node names in insertion order, with role and kind. */
  readonly nodes: readonly { name: string; role: Role; kind: string }[];
  /** Outgoing edges per node, in insertion order. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
  /** Error routes: from → to. */
  readonly errorRoutes: ReadonlyMap<string, string>;
}

const FILL: Record<Role, string> = { source: '#a6d96a', pipeline: '#ffffff', sink: '#fdae61' };

function quote(id: string): string {
  return `"${id.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * Graphviz DOT for a graph: stable order (insertion), quoted ids, sources and sinks as filled
 * ovals, pipelines as boxes, error routes dashed; unconnected nodes are drawn too. With `live`
 * each node also shows its kind and a counters line, and its SVG group gets the id
 * `node:<name>` (the live page of the operations port updates those).
 *
 * @example
 * ```ts
 * writeFileSync('network.dot', toDot(graph.view(), 'fraud'));
 * ```
 */
export function toDot(g: GraphView, title = 'tributary', options: { live?: boolean } = {}): string {
  // The live drawing runs top to bottom: its nodes carry a wide counters line.
  const lines = [`digraph ${quote(title)} {`, options.live ? '  rankdir=TB;' : '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  for (const n of g.nodes) {
    const shape = n.role === 'pipeline' ? 'box' : 'oval';
    // The live page's drawing: kind and a counters line under the name, which the page rewrites.
    const live = options.live
      ? `, id=${quote(`node:${n.name}`)}, label=${quote(`${n.name}\n${n.kind}\nin 000.0/s · out 000.0/s · err 000 · in flight 000`)}`
      : '';
    lines.push(`  ${quote(n.name)} [shape=${shape}, style=filled, fillcolor="${FILL[n.role]}", tooltip=${quote(n.kind)}${live}];`);
  }
  for (const n of g.nodes) {
    for (const to of g.edges.get(n.name) ?? []) lines.push(`  ${quote(n.name)} -> ${quote(to)};`);
    const err = g.errorRoutes.get(n.name);
    if (err) lines.push(`  ${quote(n.name)} -> ${quote(err)} [style=dashed, color="#d7191c", label="errors"];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * The text tree of GoFlow: one `name (c N)` line per node (N = its number of children),
 * children prefixed ` +--> `, continued branches padded with ` |    `. Each root is a node
 * without input. A node reached again through another path is shown with `[see above]`
 * instead of its subtree again, so shared branches cannot blow the output up.
 *
 * @example
 * ```ts
 * console.log(toTree(graph.view()));
 * // ticker_500ms (c 1)
 * //  +--> tick_printer (c 0)
 * ```
 */
export function toTree(g: GraphView): string {
  const children = (name: string) => {
    const out = [...(g.edges.get(name) ?? [])];
    const err = g.errorRoutes.get(name);
    if (err) out.push(err);
    return out;
  };
  const hasInput = new Set<string>();
  for (const n of g.nodes) for (const c of children(n.name)) hasInput.add(c);
  const expanded = new Set<string>();
  const lines: string[] = [];
  const walk = (name: string, prefix: string, childPrefix: string) => {
    const kids = children(name);
    const repeat = expanded.has(name) && kids.length > 0;
    lines.push(`${prefix}${name} (c ${kids.length})${repeat ? ' [see above]' : ''}`);
    if (repeat) return;
    expanded.add(name);
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1;
      walk(kid, `${childPrefix} +--> `, `${childPrefix}${last ? '      ' : ' |    '}`);
    });
  };
  for (const n of g.nodes) if (!hasInput.has(n.name)) walk(n.name, '', '');
  return lines.join('\n') + (lines.length ? '\n' : '');
}
