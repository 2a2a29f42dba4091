import { isMissingBucket, listScripts } from '../../cluster/deploy';
import { readGroup } from '../../cluster/group';
import type { DeployedScript, MemberInfo, UnitStats } from '../../cluster/types';
import { EXIT, type CliIO } from '../exit';
import { checkGroup, connectNats } from './deploy';

/** One unit as `ps` shows it. */
export interface PsUnit {
  readonly unit: string;
  readonly script: string;
  /** The member holding its lease (or running it, for `run --group` without partitions); absent: waiting. */
  readonly owner?: string;
  /** The version deployed, and the one running (they differ during a reload). */
  readonly deployed?: number;
  readonly stats?: UnitStats;
}

/** What `ps --json` prints. */
export interface PsReport {
  readonly group: string;
  readonly members: ReadonlyArray<{ id: string; host: string; pid: number; startedAt: number; at: number; units: number }>;
  readonly scripts: ReadonlyArray<Omit<DeployedScript, 'source'>>;
  readonly units: readonly PsUnit[];
  readonly failed: ReadonlyArray<{ script: string; version: number; member: string; error: string }>;
}

/**
 * Reads a group as `ps` shows it: the live members (heartbeats), the deployed scripts, each unit
 * with its owner and the counters its owner reported, and failed builds.
 *
 * @example
 * ```ts
 * const report = psReport(members, leases, scripts);
 * ```
 */
export function psReport(
  group: string,
  members: readonly MemberInfo[],
  leases: ReadonlyArray<{ unit: string; owner: string }>,
  scripts: readonly DeployedScript[],
): PsReport {
  const owners = new Map(leases.map((l) => [l.unit, l.owner]));
  const running = new Map<string, { member: string; stats: UnitStats }>();
  for (const m of members) for (const [unit, stats] of Object.entries(m.units ?? {})) running.set(unit, { member: m.id, stats });
  const units: PsUnit[] = [];
  const seen = new Set<string>();
  const add = (unit: string, script: string, deployed?: number) => {
    seen.add(unit);
    const r = running.get(unit);
    const owner = owners.get(unit) ?? r?.member;
    units.push({
      unit,
      script,
      ...(owner ? { owner } : {}),
      ...(deployed !== undefined ? { deployed } : {}),
      ...(r ? { stats: r.stats } : {}),
    });
  };
  for (const s of scripts) {
    if (s.partitions === undefined) add(s.name, s.name, s.version);
    else for (let i = 0; i < s.partitions; i++) add(`${s.name}.p${i}`, s.name, s.version);
  }
  // Units no deployed script accounts for: `run --group` of a local file, or an undeployed script draining.
  for (const unit of [...new Set([...owners.keys(), ...running.keys()])].sort()) {
    if (!seen.has(unit)) add(unit, unit.replace(/\.p\d+$/, ''));
  }
  const failed = members.flatMap((m) =>
    Object.entries(m.failed ?? {}).map(([script, f]) => ({ script, version: f.version, member: m.id, error: f.error })),
  );
  return {
    group,
    members: members.map((m) => ({
      id: m.id,
      host: m.host,
      pid: m.pid,
      startedAt: m.startedAt,
      at: m.at,
      units: Object.keys(m.units ?? {}).length,
    })),
    scripts: scripts.map(({ source: _source, ...rest }) => rest),
    units,
    failed,
  };
}

/**
 * `tributary ps --group <g>`: what runs where: members, units with their owner, version and
 * in/out/rate, failed builds; `--json` prints a {@link PsReport}.
 *
 * @example
 * ```ts
 * process.exitCode = await psCommand({ group: 'bets', json: true }, process);
 * ```
 */
export async function psCommand(options: { group: string; nats?: string; json?: boolean }, io: CliIO): Promise<number> {
  checkGroup(options.group);
  const nc = await connectNats(options.nats, 'ps');
  let report: PsReport;
  try {
    const [{ members, leases }, scripts] = await Promise.all([
      // A group no member ever joined has no bucket yet: it is empty.
      readGroup(nc, options.group).catch((e: unknown) => {
        if (isMissingBucket(e)) return { members: [], leases: [] };
        throw e;
      }),
      listScripts(nc, options.group),
    ]);
    report = psReport(options.group, members, leases, scripts);
  } finally {
    await nc.close();
  }
  if (options.json) {
    io.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return EXIT.OK;
  }
  io.stdout.write(renderPs(report, Date.now()));
  return EXIT.OK;
}

/**
 * `ps` as text tables.
 *
 * @example
 * ```ts
 * process.stdout.write(renderPs(report, Date.now()));
 * ```
 */
export function renderPs(report: PsReport, now: number): string {
  const lines: string[] = [];
  lines.push(`group ${report.group}: ${report.members.length} member${report.members.length === 1 ? '' : 's'}`);
  if (report.members.length > 0) {
    lines.push(
      ...table(
        ['MEMBER', 'HOST', 'PID', 'UP', 'SEEN', 'UNITS'],
        report.members.map((m) => [m.id, m.host, String(m.pid), ago(now - m.startedAt), `${ago(now - m.at)} ago`, String(m.units)]),
      ),
    );
  }
  if (report.scripts.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['SCRIPT', 'VERSION', 'FORMAT', 'PARTITIONS', 'DEPLOYED', 'BY'],
        report.scripts.map((s) => [
          s.name,
          String(s.version),
          s.format,
          s.partitions === undefined ? '-' : String(s.partitions),
          new Date(s.deployedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
          s.deployedBy ?? '-',
        ]),
      ),
    );
  }
  if (report.units.length > 0) {
    lines.push('');
    lines.push(
      ...table(
        ['UNIT', 'OWNER', 'VERSION', 'IN', 'OUT', 'ERRORS', 'RATE/S'],
        report.units.map((u) => [
          u.unit,
          u.owner ?? '(waiting)',
          u.stats
            ? String(u.stats.version) + (u.deployed !== undefined && u.deployed !== u.stats.version ? ` (deployed ${u.deployed})` : '')
            : '-',
          u.stats ? String(u.stats.in) : '-',
          u.stats ? String(u.stats.out) : '-',
          u.stats ? String(u.stats.errors) : '-',
          u.stats ? u.stats.rate.toFixed(1) : '-',
        ]),
      ),
    );
  }
  for (const f of report.failed) lines.push(`failed: ${f.script} version ${f.version} on ${f.member}: ${f.error}`);
  return lines.join('\n') + '\n';
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)];
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}
