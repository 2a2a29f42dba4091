// Scale-out over NATS JetStream (docs/scale-out.md): group membership, leases and fencing,
// partitioning. The runner (building units from scripts) lives in lib/cluster/runner.ts.
export * from './types';
export { partitionOf, fnv1a32, partitionKeyText } from './partition';
export { claimFence, fenceKey, type FenceValue } from './fence';
export {
  GroupMember,
  assignUnits,
  unitsOf,
  readGroup,
  type GroupMemberOptions,
  type GroupSnapshot,
  type GroupView,
  type OwnedUnitSnapshot,
} from './group';
