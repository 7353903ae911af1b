// Differences → findings with causes (pure): missing/extra/mismatches/duplicates per key, then
// pending_sync (issued within the sync lag) and probable_typo (a missing and an extra one edit apart).
import type { KeyDiff } from './diff.js';
import type { Finding, FindingKind, Invoice, InvoiceView } from '../model/types.js';

export interface ClassifyContext {
  now: Date;
  syncLagSeconds: number;
  /** keys of upstream rows rejected by validation: a local "extra" with such a key says so */
  invalidUpstreamKeys?: ReadonlyMap<string, string>;
}

export function view(inv: Invoice, rows?: number): InvoiceView {
  return {
    key: inv.key,
    issuedAt: inv.issuedAt,
    day: inv.day,
    totalFen: inv.totalFen,
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
  return rows.find((r) => r.totalFen === other.totalFen && r.status === other.status && r.day === other.day) ?? rows.find((r) => r.totalFen === other.totalFen) ?? rows[0];
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
    for (const [side, rows] of [['upstream', d.upstream], ['local', d.local]] as const) {
      if (rows.length < 2) continue;
      findings.push({ kind: 'duplicate', key: d.key, side, day: rows[0]!.day, [side]: view(rows[0]!, rows.length), evidence: { side, rows: rows.length, where: rows.map((r) => r.origin ?? `${r.day} ${r.issuedAt}`) } });
    }
    if (u && !lo) {
      const f: Finding = { kind: 'missing', key: d.key, day: u.day, upstream: view(u, d.upstream.length), evidence: { reason: 'upstream has the invoice, the local table does not' } };
      if (Date.parse(u.issuedAt) >= pendingSince) {
        f.cause = 'pending_sync';
        f.evidence.syncLagSeconds = ctx.syncLagSeconds;
      }
      missing.push(f);
    } else if (lo && !u) {
      const f: Finding = { kind: 'extra', key: d.key, day: lo.day, local: view(lo, d.local.length), evidence: { reason: 'the local table has the invoice, upstream does not' } };
      const invalid = ctx.invalidUpstreamKeys?.get(d.key);
      if (invalid) f.evidence.upstreamRowRejected = invalid;
      extra.push(f);
    } else if (u && lo) {
      const both = { upstream: view(u, d.upstream.length), local: view(lo, d.local.length) };
      const pair = (kind: FindingKind, evidence: Record<string, unknown>): void => void findings.push({ kind, key: d.key, day: u.day, ...both, evidence });
      if (u.totalFen !== lo.totalFen) pair('amount_mismatch', { upstreamFen: u.totalFen, localFen: lo.totalFen, differenceFen: lo.totalFen - u.totalFen });
      if (u.status !== lo.status) pair('status_mismatch', { upstreamStatus: u.status, localStatus: lo.status });
      if (u.day !== lo.day || (u.partition ?? '') !== (lo.partition ?? '')) {
        pair('date_mismatch', { upstreamDay: u.day, localDay: lo.day, upstreamIssuedAt: u.issuedAt, localIssuedAt: lo.issuedAt, ...(u.partition !== lo.partition ? { upstreamPartition: u.partition, localPartition: lo.partition } : {}) });
      }
    }
  }
  pairTypos(missing, extra);
  return sortFindings([...findings, ...missing, ...extra]);
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

const KIND_ORDER: Record<FindingKind, number> = { missing: 0, extra: 1, amount_mismatch: 2, status_mismatch: 3, date_mismatch: 4, duplicate: 5, invalid_input: 6 };

export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.day ?? '').localeCompare(b.day ?? '') || a.key.localeCompare(b.key));
}

/** Findings that fail the run: a failOn kind, and not (yet) explained by sync lag. */
export function failing(findings: readonly Finding[], failOn: readonly FindingKind[]): Finding[] {
  return findings.filter((f) => failOn.includes(f.kind) && f.cause !== 'pending_sync' && !(f.kind === 'invalid_input' && f.evidence.severity === 'warning'));
}
