/**
 * One group member process for the scale-out fault specs (issue 17): the library's
 * GroupMember (lib/cluster/group.ts) with the runner's UnitFactory (lib/cluster/runner.ts),
 * running ONE Lua script file, partitioned or not, with keyed state checkpointed to a store.
 * What `tributary run <file> --group g --partitions P --state-store <url>` does, through the
 * library API, so the fault specs kill a real member process with SIGKILL.
 *
 *   node -r ts-node/register/transpile-only spec/fault/group-child.ts '<json config>'
 *
 * The config is a {@link GroupChildConfig}. The compiled library (dist/lib, `npm run build`)
 * is loaded, so a member starts in a second, not after transpiling the library. The script's
 * sinks write to this process's stdout; warnings and errors go to stderr. SIGTERM stops the
 * member gracefully (drain, last checkpoint, leases released) and exits 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DeployedScript, ScriptCatalog, UnitFactory } from '../../lib/cluster/types';
import type { Logger } from '../../lib/nodes/types';
import type { KeyValueStore } from '../../lib/state/types';

/** What the parent passes (JSON, argv[2]). */
export interface GroupChildConfig {
  nats: string;
  group: string;
  /** Path of the Lua script. */
  script: string;
  /** The script's name in the group (units `<name>` or `<name>.p<i>`). */
  name: string;
  partitions?: number;
  stateStore?: string;
  checkpointInterval?: string;
  leaseTimeout: string;
}

/** The GroupMember API used here (lib/cluster/group.ts). */
interface Member {
  start(): Promise<void>;
  stop(): Promise<void>;
}
type MemberClass = new (options: {
  nats: string;
  group: string;
  catalog: ScriptCatalog;
  factory: UnitFactory;
  leaseTimeout: string;
  logger: Logger;
}) => Member;

const DIST = path.join(__dirname, '..', '..', 'dist', 'lib');

/**
 * True when the compiled library has what a member process needs (GroupMember and the
 * runner): the specs skip, saying so, until it does.
 *
 * @example
 * ```ts
 * const maybe = groupChildReady() ? it : it.skip;
 * ```
 */
export function groupChildReady(): boolean {
  return ['cluster/group.js', 'cluster/runner.js', 'state/open.js'].every((f) => existsSync(path.join(DIST, f)));
}

/**
 * The node arguments that run a member with `config`.
 *
 * @example
 * ```ts
 * spawn(process.execPath, groupChildArgv({ nats, group: 'g', script: 'sums.lua', name: 'sums', partitions: 16, leaseTimeout: '5s' }));
 * ```
 */
export function groupChildArgv(config: GroupChildConfig): string[] {
  return ['-r', 'ts-node/register/transpile-only', __filename, JSON.stringify(config)];
}

async function main(config: GroupChildConfig): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports -- the compiled library, loaded at run time */
  const { GroupMember } = require(path.join(DIST, 'cluster', 'group.js')) as { GroupMember: MemberClass };
  const { unitFactory } = require(path.join(DIST, 'cluster', 'runner.js')) as typeof import('../../lib/cluster/runner');
  const { openStateStore } = require(path.join(DIST, 'state', 'open.js')) as typeof import('../../lib/state/open');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const logger: Logger = {
    warn: (m) => process.stderr.write(`warn: ${m}\n`),
    error: (m) => process.stderr.write(`error: ${m}\n`),
  };
  const store: KeyValueStore | undefined = config.stateStore ? await openStateStore(config.stateStore) : undefined;
  const script: DeployedScript = {
    name: config.name,
    version: 1,
    format: 'lua',
    source: readFileSync(config.script, 'utf8'),
    ...(config.partitions ? { partitions: config.partitions } : {}),
    deployedAt: Date.now(),
  };
  const catalog: ScriptCatalog = {
    subscribe: (onChange) => {
      onChange([script]);
      return () => undefined;
    },
    close: async () => undefined,
  };
  const factory = unitFactory({
    group: config.group,
    logger,
    ...(store ? { state: { store, ...(config.checkpointInterval ? { checkpointInterval: config.checkpointInterval } : {}) } } : {}),
  });
  const member = new GroupMember({ nats: config.nats, group: config.group, catalog, factory, leaseTimeout: config.leaseTimeout, logger });
  await member.start();
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void member
      .stop()
      .then(() => store?.close())
      .then(
        () => process.stdout.write('', () => process.exit(0)),
        (e: unknown) => {
          process.stderr.write(`error: stopping: ${String(e)}\n`);
          process.exit(1);
        },
      );
  });
}

if (require.main === module) {
  main(JSON.parse(process.argv[2]) as GroupChildConfig).catch((e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
