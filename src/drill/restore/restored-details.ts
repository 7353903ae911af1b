// Measure a restored database the way its backup measured the source (same tables, same
// checksum method) and compare. Tables can be measured while the restore still runs, as soon as
// pg_restore reports their data in (one connection then, so the restore keeps its cores); the
// rest, biggest first, on several connections once it has ended.
import { pushAll } from '../../core/arrays.js';
import type pg from 'pg';
import { linkedController } from '../../core/pipeline/abort.js';
import type { RestoredTableRef } from './restore-progress.js';
import { connect } from '../../core/pg/connect.js';
import { type DatabaseShape, collectShape } from '../../core/pg/database-shape.js';
import {
  type BackupDetails,
  type DetailCheck,
  type TableDetail,
  applyChecksumSettings,
  compareDetails,
  listUserTables,
  measureTable,
} from '../../core/pg/details.js';

export interface MeasureOptions {
  /** connections working in parallel once the restore has ended (tables are the unit of work) */
  concurrency: number;
  /** connections while the restore runs (default 1) */
  earlyConcurrency?: number;
  /** closes every connection: a long checksum query must not delay an interrupt */
  signal?: AbortSignal;
  /** how often to look for a restore step our measurement holds up (default 250 ms) */
  yieldPollMs?: number;
}

/** Tries of a measurement during the restore before it waits for the restore's end. */
const EARLY_TRIES = 4;

export interface DetailsCheck {
  /** this table's data is final (pg_restore finished its TABLE DATA item): it may be measured now */
  ready(ref: RestoredTableRef): void;
  /** the restore has ended: measure what is left, then compare with the backup's details */
  finish(): Promise<DetailCheck[]>;
  /** the restore failed: stop and close every connection */
  cancel(): void;
  /** tables measured before finish() was called, while the restore ran */
  readonly measuredEarly: number;
  /** measurements cancelled because they held up a restore step (retried later) */
  readonly yields: number;
}

// plain-error-ok: control flow inside DetailsChecker (caught in #measurementFailed, never reaches a user)
class Yielded extends Error {}

type Wanted = BackupDetails['tables'][number];
const keyOf = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;

function differs(expected: Wanted, got: TableDetail | undefined): boolean {
  return !got || got.rows !== expected.rows || (expected.checksum !== undefined && got.checksum !== expected.checksum);
}

/** The one expected table a pg_restore progress line names, if it names exactly one. */
export function resolveRef(tables: readonly Wanted[], ref: RestoredTableRef): Wanted | undefined {
  const matches = tables.filter((t) => (ref.kind === 'qualified' ? keyOf(t) === ref.text : t.name === ref.text));
  return matches.length === 1 ? matches[0] : undefined;
}

/** Starts measuring a restored database; see DetailsChecker for the steps. */
export function startDetailsCheck(url: string, expected: BackupDetails, options: MeasureOptions): DetailsCheck {
  return new DetailsChecker(url, expected, options);
}

/**
 * The check of one restore. While the restore runs, `ready` queues tables on one connection and a
 * watchdog cancels any measurement that holds up a restore step (`yieldIfBlocking`); `finish` then
 * lists what was restored, measures the rest biggest first on more connections, retries the
 * yielded, measures again what disagreed early, and compares.
 */
class DetailsChecker implements DetailsCheck {
  readonly #controller: AbortController;
  readonly #signal: AbortSignal;
  readonly #opened: pg.Client[] = [];
  readonly #idle: pg.Client[] = [];
  readonly #measured = new Map<string, TableDetail>();
  readonly #taken = new Set<string>(); // queued, running or done
  readonly #queue: Wanted[] = [];
  readonly #retryAtFinish: Wanted[] = [];
  readonly #waiters: Array<() => void> = [];
  #limit: number;
  #running = 0;
  #finishing = false;
  #measuredEarly = 0;
  #failure: { reason: unknown } | undefined;
  // A measurement during the restore must never hold up pg_restore: one that blocks a restore
  // step (ALTER TABLE … ADD PRIMARY KEY needs an exclusive lock) is cancelled and tried later.
  readonly #earlyPids = new Set<number>();
  readonly #cancelled = new Set<number>();
  readonly #tries = new Map<string, number>();
  readonly #retryTimers = new Map<Wanted, NodeJS.Timeout>();
  #yields = 0;
  #monitor: Promise<pg.Client> | undefined;
  // pg_restore's progress is lines of text: a table name with a line break can print a line that
  // looks like another table's progress. With such a name in the backup, no line is believed.
  readonly #trustProgress: boolean;
  readonly #earlyMeasured = new Set<string>();
  #polling = false;
  readonly #watchdog: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly expected: BackupDetails,
    private readonly options: MeasureOptions,
  ) {
    this.#controller = linkedController(options.signal);
    this.#signal = this.#controller.signal;
    this.#limit = Math.max(1, options.earlyConcurrency ?? 1);
    this.#trustProgress = !expected.tables.some((t) => /[\r\n]/.test(t.schema + t.name));
    this.#watchdog = setInterval(() => void this.#yieldIfBlocking(), options.yieldPollMs ?? 250);
    this.#watchdog.unref();
  }

  get measuredEarly(): number {
    return this.#measuredEarly;
  }

  get yields(): number {
    return this.#yields;
  }

  ready(ref: RestoredTableRef): void {
    if (this.#finishing || this.#signal.aborted || !this.#trustProgress) return;
    const table = resolveRef(this.expected.tables, ref);
    if (table) this.#enqueue([table]);
  }

  async finish(): Promise<DetailCheck[]> {
    this.#finishing = true;
    try {
      if (this.#signal.aborted) throw this.#signal.reason;
      const { rest, serverVersion } = await this.#restoredTablesBiggestFirst();
      this.#limit = Math.max(1, this.options.concurrency);
      this.#moveRetryTimersToFinish();
      this.#enqueue(rest);
      await this.#drained();
      await this.#retryYielded();
      await this.#measureAgainWhatDisagreedEarly();
      if (this.#signal.aborted) throw this.#signal.reason;
      if (this.#failure) throw this.#failure.reason;
      return await this.#compare(serverVersion);
    } finally {
      clearInterval(this.#watchdog);
      this.#controller.abort(new Error('details check finished'));
      await Promise.all(this.#opened.map((c) => c.end().catch(() => undefined)));
    }
  }

  cancel(): void {
    clearInterval(this.#watchdog);
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#controller.abort(new Error('details check cancelled'));
  }

  // --- finish's steps

  /** The expected tables the restore created, biggest first (pages), and the server's version. */
  async #restoredTablesBiggestFirst(): Promise<{ rest: Wanted[]; serverVersion: string }> {
    const client = this.#idle.pop() ?? (await this.#open());
    const present = new Set((await listUserTables(client, { partitioned: true })).map(keyOf));
    const { rows: sizes } = await client.query<{ name: string; pages: string }>(
      `select n.nspname || '.' || c.relname as name, c.relpages::text as pages
         from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'`,
    );
    const { rows: version } = await client.query<{ v: string }>(`select current_setting('server_version') as v`);
    this.#idle.push(client);
    const pages = new Map(sizes.map((r) => [r.name, Number(r.pages)]));
    const rest = this.expected.tables
      .filter((t) => present.has(keyOf(t)))
      .sort((a, b) => (pages.get(keyOf(b)) ?? 0) - (pages.get(keyOf(a)) ?? 0));
    return { rest, serverVersion: version[0]!.v };
  }

  /** Yielded tables waiting for a timer are measured at the end instead. */
  #moveRetryTimersToFinish(): void {
    for (const [table, timer] of this.#retryTimers) {
      clearTimeout(timer);
      this.#retryAtFinish.push(table);
    }
    this.#retryTimers.clear();
  }

  async #retryYielded(): Promise<void> {
    if (this.#retryAtFinish.length === 0) return;
    pushAll(this.#queue, this.#retryAtFinish.splice(0));
    await this.#drained();
  }

  // an early measurement that disagrees with the backup may have come too early (a progress
  // line that lied): measured again now that the restore is over, and only that one counts
  async #measureAgainWhatDisagreedEarly(): Promise<void> {
    const again = this.expected.tables.filter(
      (t) => this.#earlyMeasured.has(keyOf(t)) && differs(t, this.#measured.get(keyOf(t))),
    );
    if (again.length === 0) return;
    for (const t of again) this.#measured.delete(keyOf(t));
    pushAll(this.#queue, again);
    this.#pump();
    await this.#drained();
  }

  async #compare(serverVersion: string): Promise<DetailCheck[]> {
    const shape = this.expected.shape ? await this.#restoredShape() : undefined;
    // tables missing from the restored database are simply not measured: compared as absent
    return compareDetails(this.expected, {
      ...this.expected,
      serverVersion,
      tables: [...this.#measured.values()],
      ...(shape ? { shape } : {}),
    });
  }

  // --- the work queue

  #enqueue(tables: readonly Wanted[]): void {
    for (const t of tables) {
      if (this.#taken.has(keyOf(t))) continue;
      this.#taken.add(keyOf(t));
      this.#queue.push(t);
    }
    this.#pump();
  }

  /** Starts measurements up to the limit; wakes the waiters once nothing runs or is queued. */
  #pump(): void {
    while (this.#running < this.#limit && this.#queue.length > 0 && !this.#signal.aborted) {
      const table = this.#queue.shift()!;
      const early = !this.#finishing;
      this.#running++;
      this.#measure(table, early)
        .then(
          () => {
            if (early) this.#measuredEarly++;
          },
          (err: unknown) => this.#measurementFailed(table, early, err),
        )
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
    if (this.#running === 0 && (this.#queue.length === 0 || this.#signal.aborted)) {
      this.#waiters.splice(0).forEach((wake) => wake());
    }
  }

  #measurementFailed(table: Wanted, early: boolean, err: unknown): void {
    if (err instanceof Yielded) {
      this.#yields++;
      this.#retryLater(table);
    } else if (early && !this.#signal.aborted) {
      this.#retryAtFinish.push(table); // any other trouble during the restore: once more at the end
    } else {
      this.#failure ??= { reason: err };
    }
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#pump();
    });
  }

  /** After a yield: again a little later (the restore step is done by then), at the end at the latest. */
  #retryLater(table: Wanted): void {
    const n = (this.#tries.get(keyOf(table)) ?? 1) + 1;
    this.#tries.set(keyOf(table), n);
    if (n > EARLY_TRIES || this.#finishing) {
      this.#retryAtFinish.push(table);
      return;
    }
    const timer = setTimeout(
      () => {
        this.#retryTimers.delete(table);
        this.#queue.push(table);
        this.#pump();
      },
      250 * 2 ** (n - 1),
    );
    timer.unref();
    this.#retryTimers.set(table, timer);
  }

  // --- connections and measurements

  async #open(): Promise<pg.Client> {
    const client = await connect(this.url, 'fapiao-guard restore-check');
    this.#opened.push(client);
    const close = (): void => void client.end().catch(() => undefined);
    if (this.#signal.aborted) close();
    this.#signal.addEventListener('abort', close, { once: true });
    return client;
  }

  async #measure(table: Wanted, early: boolean): Promise<void> {
    const client = this.#idle.pop() ?? (await this.#open());
    const pid = (client as unknown as { processID: number }).processID;
    if (early) this.#earlyPids.add(pid);
    try {
      await client.query('begin isolation level repeatable read, read only');
      await applyChecksumSettings(client);
      // while pg_restore runs, one process per measurement: the restore keeps the other cores
      if (early) await client.query(`select set_config('max_parallel_workers_per_gather', '0', true)`);
      const checksum = table.checksum !== undefined;
      const how = checksum ? { checksum, method: table.checksumMethod ?? 'md5' } : { checksum };
      const detail = await measureTable(client, table, how);
      await client.query('commit');
      this.#measured.set(keyOf(table), detail);
      if (early) this.#earlyMeasured.add(keyOf(table));
      this.#idle.push(client);
    } catch (err) {
      // an aborted transaction still holds its locks: roll back before anything else
      await client.query('rollback').then(
        () => this.#idle.push(client),
        () => client.end().catch(() => undefined),
      );
      throw this.#cancelled.has(pid) ? new Yielded(`measuring ${keyOf(table)} held up the restore`) : err;
    } finally {
      this.#earlyPids.delete(pid);
      this.#cancelled.delete(pid);
    }
  }

  /** The watchdog: cancels our early measurements that a restore step waits for. */
  async #yieldIfBlocking(): Promise<void> {
    if (this.#polling || this.#earlyPids.size === 0 || this.#signal.aborted) return;
    this.#polling = true;
    try {
      const m = await (this.#monitor ??= this.#open());
      const { rows } = await m.query<{ pid: number }>(
        `select distinct b.pid from pg_stat_activity a
           cross join lateral unnest(pg_blocking_pids(a.pid)) as b(pid) where b.pid = any($1::int[])`,
        [[...this.#earlyPids]],
      );
      for (const { pid } of rows) {
        if (!this.#earlyPids.has(pid)) continue;
        this.#cancelled.add(pid);
        await m.query('select pg_cancel_backend($1)', [pid]);
      }
    } catch {
      // best effort: without it a measurement only delays a restore step, never breaks it
    } finally {
      this.#polling = false;
    }
  }

  async #restoredShape(): Promise<DatabaseShape> {
    const client = this.#idle.pop() ?? (await this.#open());
    await client.query('begin isolation level repeatable read, read only');
    try {
      return await collectShape(client, 'restored');
    } finally {
      await client.query('commit').catch(() => undefined);
      this.#idle.push(client);
    }
  }
}

/** Measure and compare, all at once, after a restore (no early reports). */
export async function checkAgainstDetails(
  url: string,
  expected: BackupDetails,
  options: MeasureOptions,
): Promise<DetailCheck[]> {
  return startDetailsCheck(url, expected, options).finish();
}
