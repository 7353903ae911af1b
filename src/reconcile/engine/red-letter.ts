// Red-letter (红字/负数) invoices paired with the blue invoices they offset. A red-letter invoice
// has a negative total; the blue one is found by the number the export references (a 原发票号码
// column or the 备注 `被红冲蓝字数电发票号码：…`), upstream first, then in the local table; without a
// reference, by the same seller and the opposite total, issued on or before it (the latest such
// invoice, and only when exactly one fits). A pairing is a `red_letter` finding (informational);
// a red-letter invoice whose blue one cannot be found is `red_letter_unpaired`. Pure but for the
// local look-up passed in.
import { view } from './classify.js';
import type { Finding, Invoice, Window } from '../model/types.js';

export interface RedLetterInput {
  /** every upstream row the source holds (a file export: all its days) */
  upstream: readonly Invoice[];
  window: Window;
  /** rows of these keys in the local table (undefined: it cannot look keys up) */
  lookupLocal: (keys: readonly string[]) => Promise<Invoice[] | undefined>;
}

type Pairing = { original: Invoice; by: 'reference' | 'seller_amount_date'; side: 'upstream' | 'local' };

export async function pairRedLetters(input: RedLetterInput): Promise<Finding[]> {
  const red = input.upstream.filter((r) => r.totalFen < 0 && r.day >= input.window.from && r.day <= input.window.to);
  if (red.length === 0) return [];
  const byKey = new Map(input.upstream.map((r) => [r.key, r]));
  const wanted = [
    ...new Set(red.map((r) => r.originalKey).filter((k): k is string => k !== undefined && !byKey.has(k))),
  ];
  const local = new Map(wanted.length > 0 ? ((await input.lookupLocal(wanted)) ?? []).map((r) => [r.key, r]) : []);
  const used = new Set<string>();
  const out: Finding[] = [];
  for (const r of red.sort((a, b) => a.issuedAt.localeCompare(b.issuedAt))) {
    const found =
      r.originalKey !== undefined ? byReference(r.originalKey, byKey, local) : bySellerAmount(r, input.upstream, used);
    if (found && typeof found !== 'string') {
      used.add(found.original.key);
      out.push(paired(r, found));
    } else out.push(unpaired(r, found ?? 'none'));
  }
  return out;
}

function byReference(key: string, upstream: Map<string, Invoice>, local: Map<string, Invoice>): Pairing | 'referenced' {
  const u = upstream.get(key);
  if (u) return { original: u, by: 'reference', side: 'upstream' };
  const l = local.get(key);
  return l ? { original: l, by: 'reference', side: 'local' } : 'referenced';
}

/** The one blue invoice of the same seller with the opposite total, issued on or before the red one. */
function bySellerAmount(
  red: Invoice,
  rows: readonly Invoice[],
  used: ReadonlySet<string>,
): Pairing | 'ambiguous' | undefined {
  if (red.sellerTaxId === undefined) return undefined;
  const fits = rows.filter(
    (r) =>
      r.totalFen === -red.totalFen &&
      r.sellerTaxId === red.sellerTaxId &&
      r.issuedAt <= red.issuedAt &&
      !used.has(r.key) &&
      r.key !== red.key,
  );
  if (fits.length === 0) return undefined;
  const latest = fits.reduce((a, b) => (b.issuedAt > a.issuedAt ? b : a));
  if (fits.filter((r) => r.issuedAt === latest.issuedAt).length > 1) return 'ambiguous';
  return { original: latest, by: 'seller_amount_date', side: 'upstream' };
}

function paired(red: Invoice, p: Pairing): Finding {
  const o = p.original;
  return {
    kind: 'red_letter',
    key: red.key,
    side: 'upstream',
    day: red.day,
    upstream: view(red),
    evidence: {
      reason: `offsets ${o.key} (${p.by === 'reference' ? 'the number the export references' : 'same seller, opposite total, issued before'})`,
      originalKey: o.key,
      pairedBy: p.by,
      originalSide: p.side,
      upstreamFen: red.totalFen,
      originalFen: o.totalFen,
      originalDay: o.day,
      originalStatus: o.status,
      ...(o.origin ? { originalOrigin: o.origin } : {}),
      partial: -red.totalFen !== o.totalFen,
    },
  };
}

function unpaired(red: Invoice, why: 'referenced' | 'ambiguous' | 'none'): Finding {
  const reason = {
    referenced: `the blue invoice ${red.originalKey ?? ''} it references is neither in the export nor in the local table`,
    ambiguous: 'several blue invoices of the same seller and opposite total were issued at the same time before it',
    none: 'no reference to the blue invoice, and no blue invoice of the same seller with the opposite total before it',
  }[why];
  return {
    kind: 'red_letter_unpaired',
    key: red.key,
    side: 'upstream',
    day: red.day,
    upstream: view(red),
    evidence: { reason, upstreamFen: red.totalFen, ...(red.originalKey ? { originalKey: red.originalKey } : {}) },
  };
}
