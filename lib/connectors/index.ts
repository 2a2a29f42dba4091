import type { NodeKind } from '../nodes/registry';

/**
 * Node kinds of the connectors (HTTP, NATS, AMQP, files, stdio), registered in every
 * registry `createRegistry()` makes. Client libraries load lazily when a node is built.
 */
export const connectorKinds: NodeKind<any>[] = [];
