// An InvoiceSource over rows held in memory: the file source after reading, the http source's
// fetched days, and the tests. Digests use the same functions as the SQL pushdown mirrors.
import { digestRows, inBucket, keyPrefix } from '../model/bucket-digest.js';
import { groupByKey } from '../engine/diff.js';
import type { BucketRef, Digest, Invoice, InvoiceSource, SourceInfo, SourceProblems, SplitLevel, Window } from '../model/types.js';

export class MemorySource implements InvoiceSource {
  private readonly byDay = new Map<string, Invoice[]>();
  private byKey: Map<string, Invoice[]> | undefined;

  constructor(
    readonly info: SourceInfo,
    rows: Iterable<Invoice>,
    private readonly found: SourceProblems = { errors: [], warnings: [] },
  ) {
    for (const r of rows) {
      const list = this.byDay.get(r.day);
      if (list) list.push(r);
      else this.byDay.set(r.day, [r]);
    }
  }

  rows(): Invoice[] {
    return [...this.byDay.values()].flat();
  }

  async windowDigests(window: Window, partition: boolean): Promise<{ days: Digest[]; hours: Digest[] }> {
    const rows = [...this.byDay.entries()].filter(([day]) => day >= window.from && day <= window.to).flatMap(([, r]) => r);
    const base = (r: Invoice): BucketRef => (partition ? { day: r.day, partition: r.partition ?? '' } : { day: r.day });
    return { days: digestRows(rows, base), hours: digestRows(rows, (r) => ({ ...base(r), hour: r.hour })) };
  }

  async splitDigests(bucket: BucketRef, level: SplitLevel): Promise<Digest[]> {
    const rows = await this.list(bucket);
    return digestRows(rows, (r) => (level.by === 'hour' ? { ...bucket, hour: r.hour } : { ...bucket, prefix: keyPrefix(r.key, level.length) }));
  }

  async list(bucket: BucketRef): Promise<Invoice[]> {
    return (this.byDay.get(bucket.day) ?? []).filter((r) => inBucket(r, bucket));
  }

  async lookup(keys: readonly string[]): Promise<Invoice[]> {
    this.byKey ??= groupByKey(this.rows());
    return keys.flatMap((k) => this.byKey!.get(k) ?? []);
  }

  problems(): SourceProblems {
    return this.found;
  }

  async close(): Promise<void> {}
}
