// An InvoiceSource over rows held in memory: the file source after reading, the http source's
// fetched days, and the tests. Digests use the same functions as the SQL pushdown mirrors.
import { fieldsOfRows } from '../model/detail-fields.js';
import { digestRows, inBucket, keyPrefix } from '../model/bucket-digest.js';
import { groupByKey } from '../engine/diff.js';
import type {
  BucketRef,
  DetailField,
  Digest,
  HashMethod,
  Invoice,
  InvoiceSource,
  SourceInfo,
  SourceProblems,
  SplitLevel,
  Window,
} from '../model/types.js';

export class MemorySource implements InvoiceSource {
  private readonly byDay = new Map<string, Invoice[]>();
  private byKey: Map<string, Invoice[]> | undefined;
  /** the detail fields it reads: as given (a file: its columns), else those every row carries */
  readonly fields: readonly DetailField[];

  constructor(
    readonly info: SourceInfo,
    rows: Iterable<Invoice>,
    private readonly found: SourceProblems = { errors: [], warnings: [] },
    fields?: readonly DetailField[],
  ) {
    for (const r of rows) {
      const list = this.byDay.get(r.day);
      if (list) list.push(r);
      else this.byDay.set(r.day, [r]);
    }
    this.fields = fields ?? fieldsOfRows(this.rows());
  }

  rows(): Invoice[] {
    return [...this.byDay.values()].flat();
  }

  async windowDigests(
    window: Window,
    partition: boolean,
    _method?: HashMethod,
    fields: readonly DetailField[] = [],
  ): Promise<{ days: Digest[]; hours: Digest[] }> {
    const rows = [...this.byDay.entries()]
      .filter(([day]) => day >= window.from && day <= window.to)
      .flatMap(([, r]) => r);
    const base = (r: Invoice): BucketRef => (partition ? { day: r.day, partition: r.partition ?? '' } : { day: r.day });
    return {
      days: digestRows(rows, base, fields),
      hours: digestRows(rows, (r) => ({ ...base(r), hour: r.hour }), fields),
    };
  }

  async splitDigests(
    bucket: BucketRef,
    level: SplitLevel,
    _method?: HashMethod,
    fields: readonly DetailField[] = [],
  ): Promise<Digest[]> {
    const rows = await this.list(bucket);
    return digestRows(
      rows,
      (r) =>
        level.by === 'hour' ? { ...bucket, hour: r.hour } : { ...bucket, prefix: keyPrefix(r.key, level.length) },
      fields,
    );
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
