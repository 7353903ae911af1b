// A local "extra" invoice is often the upstream row that validation rejected (Excel turned its
// 20-digit number into 2.64E+19): same seller, same issue time to the second, same total. Say so,
// so an auditor does not look for an invoice that upstream does have (the seller is compared only
// when the local mapping reads it). An xlsx row keeps its cells as read, so its date may be Excel's
// serial number (`46331.00313657407`): read as the wall clock it stands for, as a CSV's text is. Pure.
import { formatTime } from '../../core/format.js';
import { excelSerialWall } from '../model/issue-time.js';
import type { Finding } from '../model/types.js';
import { parseAmountFen } from '../model/validators.js';

export function linkRejectedRows(findings: Finding[], timeZone: string): number {
  const rejected = findings.filter((f) => f.kind === 'invalid_input' && f.evidence.row);
  if (rejected.length === 0) return 0;
  let linked = 0;
  for (const extra of findings) {
    if (extra.kind !== 'extra' || !extra.local || extra.evidence.upstreamRowRejected) continue;
    const local = extra.local;
    const wall = formatTime(local.issuedAt, timeZone).slice(0, 19);
    const matches = rejected.filter((r) => {
      const row = r.evidence.row as Record<string, string | undefined>;
      const total = row.total === undefined ? undefined : parseAmountFen(row.total, 'total', { numericCell: true });
      const issued = excelSerialWall(row.issuedAt ?? '') ?? (row.issuedAt ?? '').slice(0, 19);
      return (
        total?.ok === true &&
        total.fen === local.totalFen &&
        (local.sellerTaxId === undefined || (row.sellerTaxId ?? '').trim() === local.sellerTaxId) &&
        issued === wall
      );
    });
    if (matches.length !== 1) continue; // ambiguous or none: claim nothing
    const row = matches[0]!;
    extra.evidence.upstreamRowRejected = `${String(row.evidence.origin)}: ${String(row.evidence.reason)}`;
    extra.evidence.reason =
      'upstream has this invoice, but its row was rejected as damaged (same seller, issue time and total): fix the export; the invoice is probably not missing upstream';
    linked += 1;
  }
  return linked;
}
