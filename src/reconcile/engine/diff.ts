// The exact diff of listed buckets: rows grouped by key, keeping only keys whose rows differ
// between the sides (count, total, status, day, or a compared detail field). Pure; runs on a few
// thousand rows at a time.
import { pushAll } from '../../core/arrays.js';
import { differingFields } from '../model/detail-fields.js';
import type { DetailField, Invoice } from '../model/types.js';

export interface KeyDiff {
  key: string;
  upstream: Invoice[];
  local: Invoice[];
}

/** Two rows of one key agree on everything compared. */
export function sameRow(a: Invoice, b: Invoice, fields: readonly DetailField[] = []): boolean {
  return (
    a.totalFen === b.totalFen &&
    a.status === b.status &&
    a.day === b.day &&
    (a.partition ?? '') === (b.partition ?? '') &&
    differingFields(a, b, fields).length === 0
  );
}

export function groupByKey(rows: readonly Invoice[]): Map<string, Invoice[]> {
  const out = new Map<string, Invoice[]>();
  for (const r of rows) {
    const list = out.get(r.key);
    if (list) list.push(r);
    else out.set(r.key, [r]);
  }
  return out;
}

export function diffRows(
  upstream: readonly Invoice[],
  local: readonly Invoice[],
  fields: readonly DetailField[] = [],
): KeyDiff[] {
  const up = groupByKey(upstream);
  const lo = groupByKey(local);
  const out: KeyDiff[] = [];
  for (const key of new Set([...up.keys(), ...lo.keys()])) {
    const u = up.get(key) ?? [];
    const l = lo.get(key) ?? [];
    if (u.length === 1 && l.length === 1 && sameRow(u[0]!, l[0]!, fields)) continue;
    out.push({ key, upstream: u, local: l });
  }
  return out;
}

/** Merge diffs of the same key found in different buckets (an invoice dated differently per side). */
export function mergeKeyDiffs(diffs: readonly KeyDiff[]): KeyDiff[] {
  const out = new Map<string, KeyDiff>();
  for (const d of diffs) {
    const seen = out.get(d.key);
    if (seen) {
      pushAll(seen.upstream, d.upstream);
      pushAll(seen.local, d.local);
    } else out.set(d.key, { key: d.key, upstream: [...d.upstream], local: [...d.local] });
  }
  return [...out.values()];
}
