// Differences → findings with causes (pure): missing/extra/mismatches/duplicates per key, then
// pending_sync (issued within the sync lag) and probable_typo (a missing and an extra one edit apart).
import type { KeyDiff } from './diff.js';
import { detailFindings } from './field-mismatch.js';
import {
  type DetailField,
  FINDING_KINDS,
  type Finding,
  type FindingKind,
  type Invoice,
  type InvoiceView,
} from '../model/types.js';

export interface ClassifyContext {
  now: Date;
  syncLagSeconds: number;
  /** keys of upstream rows rejected by validation: a local "extra" with such a key says so */
  invalidUpstreamKeys?: ReadonlyMap<string, string>;
  /** the detail fields both sides read (the engine's result): compared per pair */
  fields?: readonly DetailField[];
}

export function view(inv: Invoice, rows?: number): InvoiceView {
  return {
    key: inv.key,
    issuedAt: inv.issuedAt,
    day: inv.day,
    totalFen: inv.totalFen,
    ...(inv.amountFen !== undefined ? { amountFen: inv.amountFen } : {}),
    ...(inv.taxFen !== undefined ? { taxFen: inv.taxFen } : {}),
    ...(inv.rateBp !== undefined ? { rateBp: inv.rateBp } : {}),
    status: inv.status,
    ...(inv.partition !== undefined ? { partition: inv.partition } : {}),
    ...(inv.sellerTaxId !== undefined ? { sellerTaxId: inv.sellerTaxId } : {}),
    ...(inv.buyerTaxId !== undefined ? { buyerTaxId: inv.buyerTaxId } : {}),
    ...(inv.origin !== undefined ? { origin: inv.origin } : {}),
    ...(rows !== undefined && rows > 1 ? { rows } : {}),
  };
}

/** One substitution, or one swap of adjacent characters: the typing errors people make. */
export function oneEditApart(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  const diff: number[] = [];
  for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
  if (diff.length === 1) return true;
  if (diff.length !== 2) return false;
  const [i, j] = diff as [number, number];
  return j === i + 1 && a[i] === b[j] && a[j] === b[i];
}

/** The row of `rows` most like `other` (so a duplicate does not also read as a mismatch). */
function closest(rows: Invoice[], other: Invoice | undefined): Invoice | undefined {
  if (!other) return rows[0];
  return (
    rows.find((r) => r.totalFen === other.totalFen && r.status === other.status && r.day === other.day) ??
    rows.find((r) => r.totalFen === other.totalFen) ??
    rows[0]
  );
}

export function classify(diffs: readonly KeyDiff[], ctx: ClassifyContext): Finding[] {
  const findings: Finding[] = [];
  const missing: Finding[] = [];
  const extra: Finding[] = [];
  const pendingSince = ctx.now.getTime() - ctx.syncLagSeconds * 1000;
  for (const d of diffs) {
    const l = d.local[0];
    const u = closest(d.upstream, l);
    const lo = closest(d.local, u);
    for (const [side, rows] of [
      ['upstream', d.upstream],
      ['local', d.local],
    ] as const) {
      if (rows.length < 2) continue;
      findings.push({
        kind: 'duplicate',
        key: d.key,
        side,
        day: rows[0]!.day,
        [side]: view(rows[0]!, rows.length),
        evidence: { side, rows: rows.length, where: rows.map((r) => r.origin ?? `${r.day} ${r.issuedAt}`) },
      });
    }
    if (u && !lo) {
      const f: Finding = {
        kind: 'missing',
        key: d.key,
        day: u.day,
        upstream: view(u, d.upstream.length),
        evidence: { reason: 'upstream has the invoice, the local table does not' },
      };
      if (Date.parse(u.issuedAt) >= pendingSince) {
        f.cause = 'pending_sync';
        f.evidence.syncLagSeconds = ctx.syncLagSeconds;
      }
      missing.push(f);
    } else if (lo && !u) {
      const f: Finding = {
        kind: 'extra',
        key: d.key,
        day: lo.day,
        local: view(lo, d.local.length),
        evidence: { reason: 'the local table has the invoice, upstream does not' },
      };
      const invalid = ctx.invalidUpstreamKeys?.get(d.key);
      if (invalid) f.evidence.upstreamRowRejected = invalid;
      extra.push(f);
    } else if (u && lo) {
      const both = { upstream: view(u, d.upstream.length), local: view(lo, d.local.length) };
      const pair = (kind: FindingKind, evidence: Record<string, unknown>): void =>
        void findings.push({ kind, key: d.key, day: u.day, ...both, evidence });
      // identical export lines that the local side counts once: compare the invoice counted once
      const once = countedOnce(u);
      const details = detailFindings(once && once.totalFen === lo.totalFen ? once : u, lo, ctx.fields ?? []);
      for (const f of details) pair(f.kind, f.evidence);
      if (u.status !== lo.status) pair('status_mismatch', { upstreamStatus: u.status, localStatus: lo.status });
      // a partition (a tax ID) that differs on the same day is the party_mismatch already
      const partyOnly = u.day === lo.day && details.some((f) => f.kind === 'party_mismatch');
      if (u.day !== lo.day || ((u.partition ?? '') !== (lo.partition ?? '') && !partyOnly)) {
        pair('date_mismatch', {
          upstreamDay: u.day,
          localDay: lo.day,
          upstreamIssuedAt: u.issuedAt,
          localIssuedAt: lo.issuedAt,
          ...(u.partition !== lo.partition ? { upstreamPartition: u.partition, localPartition: lo.partition } : {}),
        });
      }
    }
    if (u?.duplicateLines && !(lo && lo.totalFen === u.totalFen)) findings.push(duplicateLineFinding(d.key, u, lo));
  }
  pairTypos(missing, extra);
  return sortFindings([...findings, ...missing, ...extra]);
}

function countedOnce(u: Invoice): Invoice | undefined {
  if (!u.duplicateLines) return undefined;
  const less = (v: number | undefined, key: 'totalFen' | 'amountFen' | 'taxFen'): number | undefined =>
    v === undefined ? undefined : u.duplicateLines!.reduce((n, l) => n - (l[key] ?? 0), v);
  const amountFen = less(u.amountFen, 'amountFen');
  const taxFen = less(u.taxFen, 'taxFen');
  return {
    ...u,
    totalFen: less(u.totalFen, 'totalFen')!,
    ...(amountFen !== undefined ? { amountFen } : {}),
    ...(taxFen !== undefined ? { taxFen } : {}),
  };
}

/** Identical lines of one invoice in a line-item export (the local side, when present, does not count them twice). */
function duplicateLineFinding(key: string, u: Invoice, lo: Invoice | undefined): Finding {
  const lines = u.duplicateLines!;
  const extraFen = lines.reduce((n, l) => n + l.totalFen, 0);
  return {
    kind: 'duplicate_line',
    key,
    side: 'upstream',
    day: u.day,
    upstream: view(u),
    ...(lo ? { local: view(lo) } : {}),
    evidence: {
      reason: `the export repeats ${lines.length === 1 ? 'a line' : `${lines.length} lines`} of this invoice cell for cell; counted once the total is ${u.totalFen - extraFen} fen`,
      origins: lines.map((l) => l.origins),
      upstreamFen: u.totalFen,
      upstreamOnceFen: u.totalFen - extraFen,
      ...(lo ? { localFen: lo.totalFen } : {}),
    },
  };
}

/** Pair each missing with at most one extra: same day and total, keys one edit apart. */
function pairTypos(missing: Finding[], extra: Finding[]): void {
  const byDayTotal = new Map<string, Finding[]>();
  for (const e of extra) {
    const id = `${e.day}|${e.local!.totalFen}`;
    byDayTotal.set(id, [...(byDayTotal.get(id) ?? []), e]);
  }
  for (const m of missing) {
    const candidates = byDayTotal.get(`${m.day}|${m.upstream!.totalFen}`) ?? [];
    const e = candidates.find((c) => c.cause === undefined && oneEditApart(m.key, c.key));
    if (!e) continue;
    m.cause = 'probable_typo';
    delete m.evidence.syncLagSeconds;
    m.evidence.pairedWith = e.key;
    m.evidence.reason = `the local table has '${e.key}', one typing error away, with the same amount and day`;
    e.cause = 'probable_typo';
    e.evidence.pairedWith = m.key;
    e.evidence.reason = `upstream has '${m.key}', one typing error away, with the same amount and day`;
  }
}

const KIND_ORDER: Record<FindingKind, number> = Object.fromEntries(FINDING_KINDS.map((k, i) => [k, i])) as Record<
  FindingKind,
  number
>;

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.day ?? '').localeCompare(b.day ?? '') || a.key.localeCompare(b.key),
  );
}

/** Findings that fail the run: a failOn kind, and not (yet) explained by sync lag. */
export function failing(findings: readonly Finding[], failOn: readonly FindingKind[]): Finding[] {
  return findings.filter(
    (f) =>
      failOn.includes(f.kind) &&
      f.cause !== 'pending_sync' &&
      !(f.kind === 'invalid_input' && f.evidence.severity === 'warning'),
  );
}
