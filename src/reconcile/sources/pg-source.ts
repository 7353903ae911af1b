// The postgres InvoiceSource: a table or query in any PostgreSQL. Digests and splits run as SQL
// aggregates in the database; rows leave it only for small differing buckets and key look-ups.
import pg from 'pg';
import { ConfigError, OperationError, messageOf } from '../../core/errors.js';
import { maskUrl } from '../../core/storage/mask-url.js';
import { splitKey } from '../model/invoice-key.js';
import { bucketId } from '../model/bucket-digest.js';
import { checkReconcileMapping, describeProblem } from './column-check.js';
import { readColumnCatalog } from './pg-catalog.js';
import { bindStatusParams } from '../model/invoice-status.js';
import {
  type PgShape,
  listSql,
  lookupSql,
  pgFields,
  quoteTable,
  slotDigestSql,
  slotListSql,
  splitDigestSql,
  windowDigestSql,
} from './pg-sql.js';
import type {
  BucketRef,
  DetailField,
  Digest,
  HashMethod,
  Invoice,
  InvoiceSource,
  SlotSource,
  SourceInfo,
  SourceProblems,
  SplitLevel,
  Window,
} from '../model/types.js';
import { addDays } from '../../core/zoned-time.js';

export type PgSourceOptions = Omit<
  PgShape,
  'timeKind' | 'statusInteger' | 'amounts' | 'totalScale2' | 'timeIndexed'
> & {
  url: string;
  timezone: string;
  label?: string;
  /** what integer amount columns hold (reconcile.*.amountUnit) */
  amountUnit?: 'yuan' | 'fen';
  /** the side's config path, for messages (default reconcile.local) */
  where?: string;
};

/**
 * Settings for one query (`set local` in its own transaction, so they work through PgBouncer and on
 * a standby, and nothing else on the server changes). Scans: the minute-slot aggregate keeps ~130k
 * groups for 90 days of 10M rows, which spills to disk under the default 4MB work_mem (4.5s instead
 * of 2.8s), and parallel workers only compete with the other side's scan for the same cores. Small
 * listings and look-ups: the planner overestimates ranges with outer references, so JIT compilation
 * would take longer (~120 ms) than the query; the scans keep JIT, which saves them ~15%.
 */
const SCAN = `set local work_mem = '64MB'; set local max_parallel_workers_per_gather = 0`;
const SMALL = 'set local jit = off';

export class PgSource implements InvoiceSource {
  readonly info: SourceInfo;
  /** rows returned by listings and look-ups (the bench reports it) */
  rowsTransferred = 0;
  /** digest groups returned (day × hour, split children or minute slots) */
  digestRows = 0;
  queries = 0;
  readonly hashMethods: readonly HashMethod[] = ['pg-hash'];
  readonly slots: SlotSource | undefined;
  readonly fields: readonly DetailField[];
  /** hour bucket id → its minutes as the database sent them (slotDigestSql) */
  private slotMinutes = new Map<string, string>();
  /** wall-clock minute × partition → its slot starts, epoch seconds (two in a DST fall-back hour); filled as minutes are parsed */
  private slotStarts = new Map<string, string[]>();
  private slotPartition = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly shape: PgShape,
    private readonly timezone: string,
    private readonly url: string,
  ) {
    this.fields = pgFields(shape);
    this.info = { kind: 'postgres', location: `${maskUrl(url)} ${shape.table ?? '(query)'}`, hashes: true };
    // a date column has no minutes: such a side drills down by hour (all 0) and key-hash prefix; an
    // ISO text column is converted per row, so it drills down too rather than bin by minute
    this.slots =
      shape.timeKind === 'date' || shape.timeKind === 'text'
        ? undefined
        : {
            digests: (w, p, m, f) => this.slotDigests(w, p, m, f),
            minutes: (h) => this.minuteDigests(h),
            list: (slots) => this.listSlots(slots),
          };
  }

  /**
   * Connect, read the columns the side really has, and check the mapping against them
   * (column-check.ts): a missing column or an unsupported type fails here with one line naming the
   * column, its type and what to do, before any comparison starts.
   */
  static async open(options: PgSourceOptions): Promise<PgSource> {
    const pool = new pg.Pool({ connectionString: options.url, max: 2, application_name: 'fapiao-guard reconcile' });
    pool.on('error', () => undefined);
    const what = options.table ? `table ${options.table}` : 'the configured query';
    const where = options.where ?? 'reconcile.local';
    try {
      const from = options.query ? `(${options.query}) as src` : `${quoteTable(options.table!)} as src`;
      const catalog = await readColumnCatalog(pool, from);
      const { checks, plan } = checkReconcileMapping(
        {
          columns: options.columns,
          statusMap: options.statusMap,
          ...(options.amountUnit ? { amountUnit: options.amountUnit } : {}),
        },
        catalog,
        { where, timezone: options.timezone },
      );
      const bad = checks.find((c) => !c.ok);
      if (bad || !plan)
        throw new ConfigError(
          bad ? describeProblem(bad, where, what) : `${where}.columns: issuedAt and total are required`,
        );
      const timeIndexed =
        options.table !== undefined &&
        !options.query &&
        (await hasLeadingIndex(pool, quoteTable(options.table), options.columns.issuedAt));
      const { where: _where, amountUnit: _unit, ...shape } = options;
      return new PgSource(
        pool,
        {
          ...shape,
          timeKind: plan.timeKind,
          amounts: plan.amounts,
          statusInteger: plan.statusInteger,
          timeIndexed,
          totalScale2: plan.totalScale2,
        },
        options.timezone,
        options.url,
      );
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof ConfigError) throw err;
      const message = messageOf(err);
      if (/does not exist/.test(message) && /column|relation/.test(message)) {
        throw new ConfigError(`${what} at '${maskUrl(options.url)}': ${message}`, [], {
          hint: `check ${where}.table and ${where}.columns`,
        });
      }
      throw new OperationError(`cannot read ${what} at '${maskUrl(options.url)}': ${message}`, {
        cause: err,
        hint: 'check the URL, that the server runs, and pg_hba.conf',
      });
    }
  }

  private async run<R extends pg.QueryResultRow>(sql: string, params: unknown[], settings: string): Promise<R[]> {
    this.queries += 1;
    try {
      const client = await this.pool.connect();
      try {
        await client.query(`begin; ${settings}`);
        const bound = bindStatusParams(sql, params, this.shape.statusMap);
        const rows = (await client.query<R>(bound.sql, bound.params)).rows;
        await client.query('commit');
        return rows;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    } catch (err) {
      throw new OperationError(`query on '${maskUrl(this.url)}' failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async windowDigests(
    window: Window,
    partition: boolean,
    method: HashMethod = 'md5',
    fields: readonly DetailField[] = [],
  ): Promise<{ days: Digest[]; hours: Digest[] }> {
    const rows = await this.run<{
      day: string;
      hour: number;
      partition: string;
      n: number;
      sum_fen: string;
      hash: string;
    }>(
      windowDigestSql(this.shape, partition, method, fields),
      [this.timezone, window.from, addDays(window.to, 1)],
      SCAN,
    );
    this.digestRows += rows.length;
    const hours = rows.map((r) =>
      digest({ day: r.day, hour: r.hour, ...(partition ? { partition: r.partition } : {}) }, r),
    );
    const days = new Map<string, Digest>();
    for (const h of hours) {
      const id = `${h.bucket.day}|${h.bucket.partition ?? ''}`;
      const d = days.get(id) ?? {
        bucket: { day: h.bucket.day, ...(partition ? { partition: h.bucket.partition! } : {}) },
        count: 0,
        sumFen: 0n,
        hash: 0n,
      };
      d.count += h.count;
      d.sumFen += h.sumFen;
      d.hash! += h.hash!;
      days.set(id, d);
    }
    return { days: [...days.values()], hours };
  }

  async splitDigests(
    bucket: BucketRef,
    level: SplitLevel,
    method: HashMethod = 'md5',
    fields: readonly DetailField[] = [],
  ): Promise<Digest[]> {
    const { sql, params } = splitDigestSql(this.shape, bucket, level, method, fields);
    const rows = await this.run<{ child: string | number; n: number; sum_fen: string; hash: string }>(
      sql,
      [this.timezone, ...params],
      SCAN,
    );
    this.digestRows += rows.length;
    return rows.map((r) =>
      digest(level.by === 'hour' ? { ...bucket, hour: Number(r.child) } : { ...bucket, prefix: String(r.child) }, r),
    );
  }

  /** Hour digests of minute slots; each hour's minutes stay unparsed text until asked for. */
  private async slotDigests(
    window: Window,
    partition: boolean,
    method: HashMethod,
    fields: readonly DetailField[] = [],
  ): Promise<Digest[] | undefined> {
    const rows = await this.run<{
      day: string;
      hour: number;
      partition: string;
      n: number;
      sum_fen: string;
      hash: string;
      whole: boolean;
      minutes: string;
    }>(slotDigestSql(this.shape, partition, method, fields), [this.timezone, window.from, addDays(window.to, 1)], SCAN);
    this.digestRows += rows.length;
    if (rows.some((r) => !r.whole)) return undefined;
    this.slotMinutes = new Map();
    this.slotStarts = new Map();
    this.slotPartition = partition;
    return rows.map((r) => {
      const bucket: BucketRef = { day: r.day, ...(partition ? { partition: r.partition } : {}), hour: r.hour };
      this.slotMinutes.set(bucketId(bucket), r.minutes);
      return digest(bucket, r);
    });
  }

  /** `minute n sumFen hash epoch,…` → digests; a minute seen twice (DST fall-back) is summed, as the other side sums it. */
  private minuteDigests(hour: BucketRef): Digest[] {
    const out = new Map<number, Digest>();
    for (const item of (this.slotMinutes.get(bucketId(hour)) ?? '').split(',')) {
      if (item === '') continue;
      const [m, n, sumFen, hash, epoch] = item.split(' ') as [string, string, string, string, string];
      const minute = Number(m);
      const d = out.get(minute) ?? { bucket: { ...hour, minute }, count: 0, sumFen: 0n, hash: 0n };
      d.count += Number(n);
      d.sumFen += BigInt(sumFen);
      d.hash! += BigInt(hash);
      out.set(minute, d);
      const wall = slotId(d.bucket);
      const starts = this.slotStarts.get(wall);
      if (!starts) this.slotStarts.set(wall, [epoch]);
      else if (!starts.includes(epoch)) starts.push(epoch);
    }
    return [...out.values()];
  }

  private async listSlots(slots: readonly BucketRef[]): Promise<Invoice[]> {
    const pairs = new Map<string, [string, string]>();
    for (const b of slots)
      for (const e of this.slotStarts.get(slotId(b)) ?? [])
        pairs.set(`${e}|${b.partition ?? ''}`, [e, b.partition ?? '']);
    if (pairs.size === 0) return [];
    const values = [...pairs.values()];
    const rows = await this.run<ListedRow>(
      slotListSql(this.shape, this.slotPartition),
      [this.timezone, values.map((v) => v[0]), values.map((v) => v[1])],
      SMALL,
    );
    this.rowsTransferred += rows.length;
    return rows.map((r) => toInvoice(r, this.slotPartition));
  }

  async list(bucket: BucketRef): Promise<Invoice[]> {
    const { sql, params } = listSql(this.shape, bucket);
    const rows = await this.run<ListedRow>(sql, [this.timezone, ...params], SMALL);
    this.rowsTransferred += rows.length;
    return rows.map((r) => toInvoice(r, bucket.partition !== undefined));
  }

  async lookup(keys: readonly string[]): Promise<Invoice[]> {
    const parts = keys.map(splitKey);
    const rows = await this.run<ListedRow>(
      lookupSql(this.shape),
      [this.timezone, [...new Set(parts.map((p) => p.code))], [...new Set(parts.map((p) => p.number))], [...keys]],
      SMALL,
    );
    this.rowsTransferred += rows.length;
    return rows.map((r) => toInvoice(r, this.shape.partitionColumn !== undefined));
  }

  problems(): SourceProblems {
    return { errors: [], warnings: [] };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

interface ListedRow {
  key: string;
  code: string | null;
  number: string;
  issued_at: string;
  day: string;
  hour: number;
  total_fen: string;
  status: string;
  amount_fen: string | null;
  tax_fen: string | null;
  rate_bp: string | null;
  seller_tax_id: string | null;
  buyer_tax_id: string | null;
  partition: string;
}

function toInvoice(r: ListedRow, partition: boolean): Invoice {
  return {
    key: r.key,
    number: r.number,
    day: r.day,
    hour: r.hour,
    issuedAt: r.issued_at,
    totalFen: Number(r.total_fen),
    status: r.status,
    ...(r.code ? { code: r.code } : {}),
    ...(r.amount_fen !== null ? { amountFen: Number(r.amount_fen) } : {}),
    ...(r.tax_fen !== null ? { taxFen: Number(r.tax_fen) } : {}),
    ...(r.rate_bp !== null ? { rateBp: Number(r.rate_bp) } : {}),
    ...(r.seller_tax_id ? { sellerTaxId: r.seller_tax_id } : {}),
    ...(r.buyer_tax_id ? { buyerTaxId: r.buyer_tax_id } : {}),
    ...(partition ? { partition: r.partition } : {}),
  };
}

/** A slot: wall-clock minute × partition. */
function slotId(b: BucketRef): string {
  return `${b.day} ${b.hour}:${b.minute}|${b.partition ?? ''}`;
}

function digest(bucket: BucketRef, r: { n: number; sum_fen: string; hash: string }): Digest {
  return { bucket, count: r.n, sumFen: BigInt(r.sum_fen), hash: BigInt(r.hash) };
}

/** Does an index (or the table's partitions' indexes, via the parent) lead with this column? */
async function hasLeadingIndex(pool: pg.Pool, table: string, column: string): Promise<boolean> {
  const res = await pool.query<{ yes: boolean }>(
    `select exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = $1::regclass and a.attname = $2) as yes`,
    [table, column],
  );
  return res.rows[0]?.yes === true;
}
