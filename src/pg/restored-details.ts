// Measure a restored database the way its backup measured the source (same tables, same
// checksum method) and compare. Several connections work through the tables, biggest first.
import type pg from 'pg';
import { connect } from './connect.js';
import { type BackupDetails, type DetailCheck, type TableDetail, applyChecksumSettings, compareDetails, listUserTables, measureTable } from './details.js';

export interface MeasureOptions {
  /** connections working in parallel (tables are the unit of work) */
  concurrency: number;
  /** closes every connection: a long checksum query must not delay an interrupt */
  signal?: AbortSignal;
}

export async function checkAgainstDetails(url: string, expected: BackupDetails, options: MeasureOptions): Promise<DetailCheck[]> {
  const opened: pg.Client[] = [];
  const open = async (): Promise<pg.Client> => {
    const client = await connect(url, 'fapiao-guard restore-check');
    opened.push(client);
    const close = (): void => void client.end().catch(() => undefined);
    if (options.signal?.aborted) close();
    options.signal?.addEventListener('abort', close, { once: true });
    return client;
  };
  try {
    const first = await open();
    const present = await listUserTables(first);
    const wanted = new Map(expected.tables.map((t) => [`${t.schema}.${t.name}`, t]));
    const { rows: sizes } = await first.query<{ name: string; pages: string }>(
      `select n.nspname || '.' || c.relname as name, c.relpages::text as pages
         from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'`,
    );
    const pages = new Map(sizes.map((r) => [r.name, Number(r.pages)]));
    const queue = [...present].sort((a, b) => (pages.get(`${b.schema}.${b.name}`) ?? 0) - (pages.get(`${a.schema}.${a.name}`) ?? 0));
    const { rows: version } = await first.query<{ v: string }>(`select current_setting('server_version') as v`);
    const tables: TableDetail[] = [];
    const worker = async (client: pg.Client): Promise<void> => {
      await client.query('begin isolation level repeatable read, read only');
      await applyChecksumSettings(client);
      for (let t = queue.shift(); t; t = queue.shift()) {
        const want = wanted.get(`${t.schema}.${t.name}`);
        const checksum = want?.checksum !== undefined;
        tables.push(await measureTable(client, t, checksum ? { checksum, method: want?.checksumMethod ?? 'md5' } : { checksum }));
      }
      await client.query('commit');
    };
    const clients = [first];
    while (clients.length < Math.max(1, Math.min(options.concurrency, present.length))) clients.push(await open());
    await Promise.all(clients.map(worker));
    return compareDetails(expected, { ...expected, serverVersion: version[0]!.v, tables });
  } finally {
    await Promise.all(opened.map((c) => c.end().catch(() => undefined)));
  }
}
