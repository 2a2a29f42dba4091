// The declarative network document (issue 15): what a YAML/JSON network file holds after
// parsing, and what the agglo config translator produces. One shape, one builder.

/** One node: a registered kind with its options (validated by the kind's own schema). */
export interface NodeDocument {
  name: string;
  kind: string;
  options?: Record<string, unknown>;
}

/**
 * An edge. `from` one and `to` one is a link; one to many a fan-out; many to one a fan-in.
 * `errors: true` routes the error events of `from` (like `net.routeErrors`).
 */
export interface EdgeDocument {
  from: string | string[];
  to: string | string[];
  errors?: boolean;
}

/**
 * A whole network as data.
 *
 * @example
 * ```ts
 * const doc: NetworkDocument = {
 *   nodes: [{ name: 'in', kind: 'stdin_source' }, { name: 'out', kind: 'stdout_sink' }],
 *   edges: [{ from: 'in', to: 'out' }],
 * };
 * ```
 */
export interface NetworkDocument {
  /** Format version; 1 when absent. */
  version?: 1;
  nodes: NodeDocument[];
  edges: EdgeDocument[];
}
