import type { NodeKind } from '../nodes/registry';

/** Node kinds of the SQL windows, registered in every registry `createRegistry()` makes. */
export const windowKinds: NodeKind<any>[] = [];

/** The key under which a network provides the window store to nodes (`net.provide`). */
export const WINDOW_SERVICE = 'tributary.windows';
