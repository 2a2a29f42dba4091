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
export {
  unitFactory,
  scriptFileName,
  stateNamespace,
  type UnitFactoryOptions,
  type RunnerFactory,
  type RunnerHandle,
  type RunnerPreparedUnit,
  type ClaimFence,
} from './runner';
export { deploy, undeploy, listScripts, scriptsKv, checkScriptName, parseScript, isMissingBucket, type DeployInput } from './deploy';
export { kvCatalog, fileCatalog, scriptFormatOf, type KvCatalogOptions, type FileCatalogOptions } from './catalog';
