// README "Getting a lost invoice back", run as written (names substituted) against the schema
// matrix's table with a generated total and a jsonb payload, plus line items: the deleted invoice
// and its items come back exactly, the generated column recomputed by the live database.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { silentLogger } from '../../src/core/logger.js';
import { BIN } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { SCHEMA_MATRIX } from '../schema-matrix/schemas.js';

const NUMBER = '26310000000000000007'; // invoice g = 7 of the generated schema
let live: TestDatabase;
let t: TestRepo;
let work: string;
let backupId: string;

beforeAll(async () => {
  live = await createDatabase('lost');
  for (const sql of SCHEMA_MATRIX.find((s) => s.id === 'generated')!.setup(50)) await query(live.url, sql);
  await query(
    live.url,
    `create table public.invoice_items (id bigint generated always as identity primary key, invoice_id bigint not null references public.invoices (id),
    name text not null, qty int not null, price numeric(14,2) not null, line_total numeric(14,2) generated always as (qty * price) stored)`,
  );
  await query(
    live.url,
    `insert into public.invoice_items (invoice_id, name, qty, price) select id, '软件维护 ' || k, k, 10.5 from public.invoices, generate_series(1, 2) k`,
  );
  t = await createTestRepo({
    targets: [{ name: 'lost', url: live.url, verifyTables: ['public.invoices', 'invoice_items'] }],
  });
  backupId = (await runBackup({ config: t.config, repo: t.repo, logger: silentLogger() }, t.config.targets[0]!)).id;
  work = await mkdtemp(path.join(tmpdir(), 'fgt-lost-'));
});
afterAll(async () => {
  await live?.drop();
  await t?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

const rowsOf = (sql: string) =>
  query<{ r: string }>(live.url, `select t::text as r from (${sql}) t order by 1`).then((rows) => rows.map((x) => x.r));

describe('README: getting a lost invoice back', () => {
  it('brings back an invoice with a generated column and its line items, exactly', async () => {
    const invoice = `select * from public.invoices where invoice_number = '${NUMBER}'`;
    const items = `select * from public.invoice_items where invoice_id in (select id from public.invoices where invoice_number = '${NUMBER}')`;
    const [before, beforeItems] = [await rowsOf(invoice), await rowsOf(items)];
    expect(before).toHaveLength(1);
    expect(beforeItems).toHaveLength(2);
    await query(
      live.url,
      `delete from public.invoice_items where invoice_id in (select id from public.invoices where invoice_number = '${NUMBER}')`,
    );
    await query(live.url, `delete from public.invoices where invoice_number = '${NUMBER}'`);

    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Getting a lost invoice back'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const scratch = `${live.name}_scratch`;
    const server = new URL(serverUrl());
    const script = block
      .replaceAll('npx fapiao-guard', `${process.execPath} ${BIN}`)
      .replaceAll(
        'postgres://postgres@127.0.0.1/invoices_scratch',
        `postgres://${server.username || 'postgres'}@${server.host}/${scratch}`,
      )
      .replaceAll('invoices_scratch', scratch)
      .replaceAll('-d invoices ', `-d ${live.name} `)
      .replaceAll('20261128T020000Z-7f3a', backupId)
      .replaceAll('26442000000000018411', NUMBER)
      .replaceAll('/var/tmp/', `${work}/`);
    expect(script).not.toMatch(/invoices_scratch|20261128T020000Z|26442000000000018411|\/var\/tmp/);
    const env = {
      ...process.env,
      PGHOST: server.hostname,
      PGPORT: server.port || '5432',
      PGUSER: server.username || 'postgres',
      FAPIAO_GUARD_CONFIG: t.configFile,
    };
    try {
      await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { env });
    } finally {
      await query(serverUrl(), `drop database if exists "${scratch}" with (force)`);
    }
    expect(await rowsOf(invoice)).toEqual(before);
    expect(await rowsOf(items)).toEqual(beforeItems);
  });
});
