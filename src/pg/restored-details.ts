// Measure a restored database the way its backup measured the source (same tables, same
// checksum method) and compare. Tables can be measured while the restore still runs, as soon as
// pg_restore reports their data in (one connection then, so the restore keeps its cores); the
// rest, biggest first, on several connections once it has ended.
import type pg from 'pg';
import { linkedController } from '../pipeline/abort.js';
import type { RestoredTableRef } from '../restore/restore-progress.js';
import { connect } from './connect.js';
import { type BackupDetails, type DetailCheck, type TableDetail, applyChecksumSettings, compareDetails, listUserTables, measureTable } from './details.js';

export interface MeasureOptions {
  /** connections working in parallel once the restore has ended (tables are the unit of work) */
  concurrency: number;
  /** connections while the restore runs (default 1) */
  earlyConcurrency?: number;
  /** closes every connection: a long checksum query must not delay an interrupt */
  signal?: AbortSignal;
}

export interface DetailsCheck {
  /** this table's data is final (pg_restore finished its TABLE DATA item): it may be measured now */
  ready(ref: RestoredTableRef): void;
  /** the restore has ended: measure what is left, then compare with the backup's details */
  finish(): Promise<DetailCheck[]>;
  /** the restore failed: stop and close every connection */
  cancel(): void;
  /** tables measured before finish() was called, while the restore ran */
  readonly measuredEarly: number;
}

type Wanted = BackupDetails['tables'][number];
const keyOf = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;

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

  const open = async (): Promise<pg.Client> => {
    const client = await connect(url, 'fapiao-guard restore-check');
    opened.push(client);
    const close = (): void => void client.end().catch(() => undefined);
    if (signal.aborted) close();
    signal.addEventListener('abort', close, { once: true });
    return client;
  };

  const measure = async (table: Wanted, early: boolean): Promise<void> => {
    const client = idle.pop() ?? (await open());
    await client.query('begin isolation level repeatable read, read only');
    await applyChecksumSettings(client);
    // while pg_restore runs, one process per measurement: the restore keeps the other cores
    if (early) await client.query(`select set_config('max_parallel_workers_per_gather', '0', true)`);
    const checksum = table.checksum !== undefined;
    measured.set(keyOf(table), await measureTable(client, table, checksum ? { checksum, method: table.checksumMethod ?? 'md5' } : { checksum }));
    await client.query('commit');
    idle.push(client);
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
            // a measurement during the restore may meet its locks or load: try again at the end
            if (early && !signal.aborted) retryAtFinish.push(table);
            else failure ??= { reason: err };
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

  return {
    ready(ref) {
      if (finishing || signal.aborted) return;
      const table = resolveRef(expected.tables, ref);
      if (table) enqueue([table]);
    },
    async finish() {
      finishing = true;
      try {
        if (signal.aborted) throw signal.reason;
        const client = idle.pop() ?? (await open());
        const present = new Set((await listUserTables(client)).map(keyOf));
        const { rows: sizes } = await client.query<{ name: string; pages: string }>(
          `select n.nspname || '.' || c.relname as name, c.relpages::text as pages
             from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'`,
        );
        const { rows: version } = await client.query<{ v: string }>(`select current_setting('server_version') as v`);
        idle.push(client);
        const pages = new Map(sizes.map((r) => [r.name, Number(r.pages)]));
        const rest = expected.tables.filter((t) => present.has(keyOf(t))).sort((a, b) => (pages.get(keyOf(b)) ?? 0) - (pages.get(keyOf(a)) ?? 0));
        limit = Math.max(1, options.concurrency);
        enqueue(rest);
        await drained();
        if (retryAtFinish.length > 0) {
          queue.push(...retryAtFinish.splice(0));
          await drained();
        }
        if (signal.aborted) throw signal.reason;
        if (failure) throw failure.reason;
        // tables missing from the restored database are simply not measured: compared as absent
        return compareDetails(expected, { ...expected, serverVersion: version[0]!.v, tables: [...measured.values()] });
      } finally {
        controller.abort(new Error('details check finished'));
        await Promise.all(opened.map((c) => c.end().catch(() => undefined)));
      }
    },
    cancel() {
      controller.abort(new Error('details check cancelled'));
    },
    get measuredEarly() {
      return measuredEarly;
    },
  };
}

/** Measure and compare, all at once, after a restore (no early reports). */
export async function checkAgainstDetails(url: string, expected: BackupDetails, options: MeasureOptions): Promise<DetailCheck[]> {
  return startDetailsCheck(url, expected, options).finish();
}
