// The report model (pure): run parameters, summary (counts and totals per side, findings by
// kind), per-day comparison for the chart, findings with their history, grouped warnings.
import type { BackupLookupInfo } from '../engine/backup-lookup.js';
import type { ComparedFields } from '../compared-fields.js';
import type { DayComparison, EngineStats } from '../engine/engine.js';
import type { FindingHistory } from '../findings/findings-store.js';
import {
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  type HashMethod,
  type InputProblem,
  type SourceInfo,
  type Window,
} from '../model/types.js';
import { type UpstreamShrink, shrinkMessage } from '../findings/shrink-guard.js';
import { formatFen } from '../model/validators.js';
import type { ReportLanguage } from './report-i18n.js';

export const REPORT_FORMAT = 'fapiao-guard/reconcile/v1';

export interface SideTotals {
  count: number;
  /** decimal string: a window's sum can exceed 2^53 fen */
  totalFen: string;
  total: string;
}

export interface ReportFinding extends Finding, Partial<FindingHistory> {}

export interface WarningGroup {
  reason: string;
  count: number;
  examples: Array<{ origin: string; reason: string }>;
}

export interface ReconcileReport {
  format: typeof REPORT_FORMAT;
  run: {
    id: string;
    scope: string;
    startedAt: string;
    finishedAt: string;
    window: Window;
    upstream: SourceInfo;
    local: SourceInfo;
    parameters: {
      syncLagSeconds: number;
      failOn: FindingKind[];
      listLimit: number;
      partition?: string;
      now: string;
      hashMethod?: HashMethod;
      backupLookup?: BackupLookupInfo;
    };
    /** which fields were compared and which not (absent in reports written before it was recorded) */
    fields?: ComparedFields;
    toolVersion: string;
    /** the language of the HTML and CSV renderings (reports.language); absent in older reports: en */
    language?: ReportLanguage;
  };
  summary: {
    ok: boolean;
    upstream: SideTotals & { rejectedRows: number };
    local: SideTotals;
    findings: Record<FindingKind, number>;
    failing: number;
    /** findings accepted with `findings ack` (not failing, still listed) */
    acknowledged?: number;
    pendingSync: number;
    probableTypos: number;
    /** missing invoices a backup still holds (lost locally after it) */
    inBackup: number;
    warnings: number;
    resolvedSinceLastRun?: number;
    escalated?: number;
    /** the upstream shrank beyond reconcile.limits.maxShrink since the previous run: nothing was resolved, and the run fails */
    upstreamShrank?: UpstreamShrink & { message: string };
    work: EngineStats;
    /** rows read per side and how they add up (absent in reports written before it was recorded) */
    rows?: { upstream: RowCounts; local: RowCounts };
    /** every finding in exactly one role: the roles add up to the number of findings */
    roles?: Record<FindingRole, number>;
    /** failing findings by kind (summary.findings counts every finding) */
    failingByKind?: Partial<Record<FindingKind, number>>;
    /** findings per seller tax ID (销方识别号), most first; sellers without findings are not listed */
    sellers?: SellerSummary[];
  };
  days: Array<{
    day: string;
    upstream: { count: number; totalFen: string };
    local: { count: number; totalFen: string };
    equal: boolean;
    findings: number;
  }>;
  findings: ReportFinding[];
  warnings: WarningGroup[];
  sha256?: string;
}

/** accepted + rejected = read; distinct + duplicateRows = accepted (duplicates found in differing buckets) */
export interface RowCounts {
  read: number;
  rejected: number;
  accepted: number;
  duplicateRows: number;
  distinct: number;
}

/** failing: fails the run; the others are informational and say why */
export const FINDING_ROLES = ['failing', 'acknowledged', 'pending_sync', 'not_in_fail_on'] as const;
export type FindingRole = (typeof FINDING_ROLES)[number];

export interface SellerSummary {
  sellerTaxId: string;
  findings: number;
  failing: number;
  byKind: Partial<Record<FindingKind, number>>;
  /** totals of the invoices in those findings, per side (decimal strings, fen) */
  upstreamFen: string;
  localFen: string;
}

/** The role of a finding in the run's verdict (the same rule as classify.ts's failing, plus acknowledgements). */
export function findingRole(f: ReportFinding, failOn: readonly FindingKind[]): FindingRole {
  if (f.acknowledgement) return 'acknowledged';
  if (f.cause === 'pending_sync') return 'pending_sync';
  if (!failOn.includes(f.kind) || (f.kind === 'invalid_input' && f.evidence.severity === 'warning'))
    return 'not_in_fail_on';
  return 'failing';
}

function duplicateRows(findings: readonly Finding[], side: 'upstream' | 'local'): number {
  return findings
    .filter((f) => f.kind === 'duplicate' && f.side === side)
    .reduce((n, f) => n + Math.max(0, Number(f.evidence.rows ?? 2) - 1), 0);
}

function rowCounts(accepted: number, rejected: number, duplicates: number): RowCounts {
  return { read: accepted + rejected, rejected, accepted, duplicateRows: duplicates, distinct: accepted - duplicates };
}

function sellerSummaries(findings: readonly ReportFinding[], failOn: readonly FindingKind[]): SellerSummary[] {
  const out = new Map<string, SellerSummary & { up: bigint; lo: bigint }>();
  for (const f of findings) {
    const seller = f.upstream?.sellerTaxId ?? f.local?.sellerTaxId;
    if (!seller) continue;
    const s = out.get(seller) ?? {
      sellerTaxId: seller,
      findings: 0,
      failing: 0,
      byKind: {},
      upstreamFen: '0',
      localFen: '0',
      up: 0n,
      lo: 0n,
    };
    s.findings += 1;
    if (findingRole(f, failOn) === 'failing') s.failing += 1;
    s.byKind[f.kind] = (s.byKind[f.kind] ?? 0) + 1;
    s.up += BigInt(f.upstream?.totalFen ?? 0);
    s.lo += BigInt(f.local?.totalFen ?? 0);
    out.set(seller, s);
  }
  return [...out.values()]
    .sort((a, b) => b.failing - a.failing || b.findings - a.findings || a.sellerTaxId.localeCompare(b.sellerTaxId))
    .map(({ up, lo, ...s }) => ({ ...s, upstreamFen: up.toString(), localFen: lo.toString() }));
}

export interface ReportInput {
  run: ReconcileReport['run'];
  days: DayComparison[];
  findings: ReportFinding[];
  failing: number;
  warnings: readonly InputProblem[];
  rejectedRows: number;
  stats: EngineStats;
  persisted?: { resolved: number; escalated: number };
  upstreamShrank?: UpstreamShrink;
}

function totals(count: number, fen: bigint): SideTotals {
  return { count, totalFen: fen.toString(), total: formatFen(fen) };
}

export function buildReport(input: ReportInput): ReconcileReport {
  const { perDay, upCount, loCount, upFen, loFen } = dayTotals(input.days, input.findings);
  const byKind = Object.fromEntries(
    FINDING_KINDS.map((k) => [k, input.findings.filter((f) => f.kind === k).length]),
  ) as Record<FindingKind, number>;
  const failOn = input.run.parameters.failOn;
  const { roles, failingByKind } = rolesOf(input.findings, failOn);
  return {
    format: REPORT_FORMAT,
    run: input.run,
    summary: {
      ok: input.failing === 0 && !input.upstreamShrank,
      upstream: { ...totals(upCount, upFen), rejectedRows: input.rejectedRows },
      local: totals(loCount, loFen),
      findings: byKind,
      failing: input.failing,
      ...(input.findings.some((f) => f.acknowledgement)
        ? { acknowledged: input.findings.filter((f) => f.acknowledgement).length }
        : {}),
      pendingSync: input.findings.filter((f) => f.cause === 'pending_sync').length,
      probableTypos: input.findings.filter((f) => f.cause === 'probable_typo' && f.kind === 'missing').length,
      inBackup: input.findings.filter((f) => f.cause === 'in_backup').length,
      warnings: input.warnings.length,
      ...(input.persisted
        ? { resolvedSinceLastRun: input.persisted.resolved, escalated: input.persisted.escalated }
        : {}),
      ...(input.upstreamShrank
        ? { upstreamShrank: { ...input.upstreamShrank, message: shrinkMessage(input.upstreamShrank) } }
        : {}),
      work: input.stats,
      rows: {
        upstream: rowCounts(upCount, input.rejectedRows, duplicateRows(input.findings, 'upstream')),
        local: rowCounts(loCount, 0, duplicateRows(input.findings, 'local')),
      },
      roles,
      failingByKind,
      sellers: sellerSummaries(input.findings, failOn),
    },
    days: [...perDay.values()]
      .sort((a, b) => a.day.localeCompare(b.day))
      .map(({ up, lo, ...row }) => ({
        ...row,
        upstream: { count: row.upstream.count, totalFen: up.toString() },
        local: { count: row.local.count, totalFen: lo.toString() },
      })),
    findings: input.findings,
    warnings: groupWarnings(input.warnings),
  };
}

type DayRow = ReconcileReport['days'][number] & { up: bigint; lo: bigint };

/** Counts and sums per day and over the window, and the findings per day. */
function dayTotals(
  days: ReportInput['days'],
  findings: readonly ReportFinding[],
): { perDay: Map<string, DayRow>; upCount: number; loCount: number; upFen: bigint; loFen: bigint } {
  const perDay = new Map<string, DayRow>();
  let upCount = 0;
  let loCount = 0;
  let upFen = 0n;
  let loFen = 0n;
  for (const d of days) {
    const row = perDay.get(d.bucket.day) ?? {
      day: d.bucket.day,
      upstream: { count: 0, totalFen: '0' },
      local: { count: 0, totalFen: '0' },
      equal: true,
      findings: 0,
      up: 0n,
      lo: 0n,
    };
    row.upstream.count += d.upstream.count;
    row.local.count += d.local.count;
    row.up += d.upstream.sumFen;
    row.lo += d.local.sumFen;
    row.equal &&= d.equal;
    perDay.set(d.bucket.day, row);
    upCount += d.upstream.count;
    loCount += d.local.count;
    upFen += d.upstream.sumFen;
    loFen += d.local.sumFen;
  }
  for (const f of findings) {
    const row = f.day ? perDay.get(f.day) : undefined;
    if (row) row.findings += 1;
  }
  return { perDay, upCount, loCount, upFen, loFen };
}

/** Every finding in exactly one role, and the failing ones by kind. */
function rolesOf(
  findings: readonly ReportFinding[],
  failOn: ReconcileReport['run']['parameters']['failOn'],
): { roles: Record<FindingRole, number>; failingByKind: Partial<Record<FindingKind, number>> } {
  const roles = Object.fromEntries(FINDING_ROLES.map((r) => [r, 0])) as Record<FindingRole, number>;
  const failingByKind: Partial<Record<FindingKind, number>> = {};
  for (const f of findings) {
    const role = findingRole(f, failOn);
    roles[role] += 1;
    if (role === 'failing') failingByKind[f.kind] = (failingByKind[f.kind] ?? 0) + 1;
  }
  return { roles, failingByKind };
}

/** Thousands of rows share one warning (a seller ID on every row): group by the reason's shape. */
export function groupWarnings(warnings: readonly InputProblem[]): WarningGroup[] {
  const groups = new Map<string, WarningGroup>();
  for (const w of warnings) {
    const shape = w.reason.replace(/'[^']*'/g, "'…'").replace(/(?<!GB )\b\d+\b/g, 'N'); // keep 'GB 32100' readable
    const g = groups.get(shape) ?? { reason: shape, count: 0, examples: [] };
    g.count += 1;
    if (g.examples.length < 5) g.examples.push({ origin: w.origin, reason: w.reason });
    groups.set(shape, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** An input problem as an invalid_input finding. */
export function invalidInputFinding(p: InputProblem): Finding {
  return {
    kind: 'invalid_input',
    key: p.key ?? '',
    ...(p.day ? { day: p.day } : {}),
    evidence: { origin: p.origin, reason: p.reason, severity: p.severity, ...(p.raw ? { row: p.raw } : {}) },
  };
}
