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
import { type BackupDetails, type DetailCheck, type TableDetail, applyChecksumSettings, compareDetails, listUserTables, measureTable } from '../../core/pg/details.js';

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

export function startDetailsCheck(url: string, expected: BackupDetails, options: MeasureOptions): DetailsCheck {
  const controller = linkedController(options.signal);
  const { signal } = controller;
  const opened: pg.Client[] = [];
  const idle: pg.Client[] = [];
  const measured = new Map<string, TableDetail>();
  const taken = new Set<string>(); // queued, running or done
  const queue: Wanted[] = [];
  const retryAtFinish: Wanted[] = [];
  const waiters: Array<() => void> = [];
  let limit = Math.max(1, options.earlyConcurrency ?? 1);
  let running = 0;
  let finishing = false;
  let measuredEarly = 0;
  let failure: { reason: unknown } | undefined;
  // A measurement during the restore must never hold up pg_restore: one that blocks a restore
  // step (ALTER TABLE … ADD PRIMARY KEY needs an exclusive lock) is cancelled and tried later.
  const earlyPids = new Set<number>();
  const cancelled = new Set<number>();
  const tries = new Map<string, number>();
  const retryTimers = new Map<Wanted, NodeJS.Timeout>();
  let yields = 0;
  let monitor: Promise<pg.Client> | undefined;
  // pg_restore's progress is lines of text: a table name with a line break can print a line that
  // looks like another table's progress. With such a name in the backup, no line is believed.
  const trustProgress = !expected.tables.some((t) => /[\r\n]/.test(t.schema + t.name));
  const earlyMeasured = new Set<string>();
  let polling = false;
  const watchdog = setInterval(() => void yieldIfBlocking(), options.yieldPollMs ?? 250);
  watchdog.unref();

  const open = async (): Promise<pg.Client> => {
    const client = await connect(url, 'fapiao-guard restore-check');
    opened.push(client);
    const close = (): void => void client.end().catch(() => undefined);
    if (signal.aborted) close();
    signal.addEventListener('abort', close, { once: true });
    return client;
  };

  async function yieldIfBlocking(): Promise<void> {
    if (polling || earlyPids.size === 0 || signal.aborted) return;
    polling = true;
    try {
      const m = await (monitor ??= open());
      const { rows } = await m.query<{ pid: number }>(
        `select distinct b.pid from pg_stat_activity a cross join lateral unnest(pg_blocking_pids(a.pid)) as b(pid) where b.pid = any($1::int[])`,
        [[...earlyPids]],
      );
      for (const { pid } of rows) {
        if (!earlyPids.has(pid)) continue;
        cancelled.add(pid);
        await m.query('select pg_cancel_backend($1)', [pid]);
      }
    } catch {
      // best effort: without it a measurement only delays a restore step, never breaks it
    } finally {
      polling = false;
    }
  }

  const measure = async (table: Wanted, early: boolean): Promise<void> => {
    const client = idle.pop() ?? (await open());
    const pid = (client as unknown as { processID: number }).processID;
    if (early) earlyPids.add(pid);
    try {
      await client.query('begin isolation level repeatable read, read only');
      await applyChecksumSettings(client);
      // while pg_restore runs, one process per measurement: the restore keeps the other cores
      if (early) await client.query(`select set_config('max_parallel_workers_per_gather', '0', true)`);
      const checksum = table.checksum !== undefined;
      const detail = await measureTable(client, table, checksum ? { checksum, method: table.checksumMethod ?? 'md5' } : { checksum });
      await client.query('commit');
      measured.set(keyOf(table), detail);
      if (early) earlyMeasured.add(keyOf(table));
      idle.push(client);
    } catch (err) {
      // an aborted transaction still holds its locks: roll back before anything else
      await client.query('rollback').then(
        () => idle.push(client),
        () => client.end().catch(() => undefined),
      );
      throw cancelled.has(pid) ? new Yielded(`measuring ${keyOf(table)} held up the restore`) : err;
    } finally {
      earlyPids.delete(pid);
      cancelled.delete(pid);
    }
  };

  /** After a yield: again a little later (the restore step is done by then), at the end at the latest. */
  const retryLater = (table: Wanted): void => {
    const n = (tries.get(keyOf(table)) ?? 1) + 1;
    tries.set(keyOf(table), n);
    if (n > EARLY_TRIES || finishing) {
      retryAtFinish.push(table);
      return;
    }
    const timer = setTimeout(() => {
      retryTimers.delete(table);
      queue.push(table);
      pump();
    }, 250 * 2 ** (n - 1));
    timer.unref();
    retryTimers.set(table, timer);
  };

  const pump = (): void => {
    while (running < limit && queue.length > 0 && !signal.aborted) {
      const table = queue.shift()!;
      const early = !finishing;
      running++;
      measure(table, early)
        .then(
          () => {
            if (early) measuredEarly++;
          },
          (err: unknown) => {
            if (err instanceof Yielded) {
              yields++;
              retryLater(table);
            } else if (early && !signal.aborted) {
              retryAtFinish.push(table); // any other trouble during the restore: once more at the end
            } else {
              failure ??= { reason: err };
            }
          },
        )
        .finally(() => {
          running--;
          pump();
        });
    }
    if (running === 0 && (queue.length === 0 || signal.aborted)) waiters.splice(0).forEach((wake) => wake());
  };
  const drained = (): Promise<void> => new Promise((resolve) => {
    waiters.push(resolve);
    pump();
  });
  const enqueue = (tables: readonly Wanted[]): void => {
    for (const t of tables) {
      if (taken.has(keyOf(t))) continue;
      taken.add(keyOf(t));
      queue.push(t);
    }
    pump();
  };

  const restoredShape = async (): Promise<DatabaseShape> => {
    const client = idle.pop() ?? (await open());
    await client.query('begin isolation level repeatable read, read only');
    try {
      return await collectShape(client, 'restored');
    } finally {
      await client.query('commit').catch(() => undefined);
      idle.push(client);
    }
  };

  return {
    ready(ref) {
      if (finishing || signal.aborted || !trustProgress) return;
      const table = resolveRef(expected.tables, ref);
      if (table) enqueue([table]);
    },
    async finish() {
      finishing = true;
      try {
        if (signal.aborted) throw signal.reason;
        const client = idle.pop() ?? (await open());
        const present = new Set((await listUserTables(client, { partitioned: true })).map(keyOf));
        const { rows: sizes } = await client.query<{ name: string; pages: string }>(
          `select n.nspname || '.' || c.relname as name, c.relpages::text as pages
             from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'`,
        );
        const { rows: version } = await client.query<{ v: string }>(`select current_setting('server_version') as v`);
        idle.push(client);
        const pages = new Map(sizes.map((r) => [r.name, Number(r.pages)]));
        const rest = expected.tables.filter((t) => present.has(keyOf(t))).sort((a, b) => (pages.get(keyOf(b)) ?? 0) - (pages.get(keyOf(a)) ?? 0));
        limit = Math.max(1, options.concurrency);
        for (const [table, timer] of retryTimers) {
          clearTimeout(timer);
          retryAtFinish.push(table);
        }
        retryTimers.clear();
        enqueue(rest);
        await drained();
        if (retryAtFinish.length > 0) {
          pushAll(queue, retryAtFinish.splice(0));
          await drained();
        }
        // an early measurement that disagrees with the backup may have come too early (a progress
        // line that lied): measured again now that the restore is over, and only that one counts
        const again = expected.tables.filter((t) => earlyMeasured.has(keyOf(t)) && differs(t, measured.get(keyOf(t))));
        if (again.length > 0) {
          for (const t of again) measured.delete(keyOf(t));
          pushAll(queue, again);
          pump();
          await drained();
        }
        if (signal.aborted) throw signal.reason;
        if (failure) throw failure.reason;
        const shape = expected.shape ? await restoredShape() : undefined;
        // tables missing from the restored database are simply not measured: compared as absent
        return compareDetails(expected, { ...expected, serverVersion: version[0]!.v, tables: [...measured.values()], ...(shape ? { shape } : {}) });
      } finally {
        clearInterval(watchdog);
        controller.abort(new Error('details check finished'));
        await Promise.all(opened.map((c) => c.end().catch(() => undefined)));
      }
    },
    cancel() {
      clearInterval(watchdog);
      for (const timer of retryTimers.values()) clearTimeout(timer);
      controller.abort(new Error('details check cancelled'));
    },
    get measuredEarly() {
      return measuredEarly;
    },
    get yields() {
      return yields;
    },
  };
}

/** Measure and compare, all at once, after a restore (no early reports). */
export async function checkAgainstDetails(url: string, expected: BackupDetails, options: MeasureOptions): Promise<DetailCheck[]> {
  return startDetailsCheck(url, expected, options).finish();
}
