// Backup, verify --deep, restore and drill on every schema of the matrix (schemas.ts), with
// verifyTables as a user writes them there. The restored copy is compared with its source
// independently of src/: the canonical oracle row for row, and every table, materialized view
// and sequence in full. Then the restored copy is damaged the ways a DBA worries about (a detached
// partition, a reset sequence, an emptied materialized view, an extra table) and the backup's
// checks must name each. One backup per schema is shared by its assertions (few hundred rows).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import type { Identity } from '../../src/core/crypto/index.js';
import { parseConfig } from '../../src/core/config/config.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { runDrill } from '../../src/drill/drill.js';
import { silentLogger } from '../../src/core/logger.js';
import type { BackupDetails } from '../../src/core/pg/details.js';
import { displayName } from '../../src/core/pg/identifier.js';
import { checkAgainstDetails } from '../../src/drill/restore/restored-details.js';
import type { Manifest } from '../../src/core/repository/manifest.js';
import { loadDetails } from '../../src/drill/restore/checks-alongside.js';
import { runRestore } from '../../src/drill/restore/restore.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { drillConfig, scratchDatabases } from '../drill/helpers.js';
import { type TestDatabase, createDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { type MatrixSchema, SCHEMA_MATRIX } from './schemas.js';

const ROWS = 300;
const logger = silentLogger();
let state: TestDatabase;
beforeAll(async () => {
  state = await createDatabase('sm_state');
});
afterAll(async () => {
  await state?.drop();
});

/** Every user table and materialized view in full, sequences' values: compared as text, not by the tool's checksums. */
async function contents(url: string): Promise<Record<string, string>> {
  const relations = await query<{ schema: string; name: string; kind: string }>(
    url,
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm', 'S') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%' order by 1, 2`,
  );
  const out: Record<string, string> = {};
  for (const r of relations) {
    const sql = `"${r.schema.replace(/"/g, '""')}"."${r.name.replace(/"/g, '""')}"`;
    const [row] =
      r.kind === 'S'
        ? await query<{ v: string }>(url, `select last_value || '/' || is_called as v from ${sql}`)
        : await query<{ v: string }>(
            url,
            `select count(*) || ' rows ' || coalesce(md5(string_agg(t::text, E'\\n' order by t::text)), '-') as v from ${sql} t`,
          );
    out[`${r.kind} ${displayName(r)}`] = row!.v;
  }
  return out;
}

async function canonical(url: string, schema: MatrixSchema): Promise<unknown[]> {
  return query(url, `select key, issued_at, total_fen::text, status from (${schema.canonicalSql}) c order by key`);
}

describe.each(SCHEMA_MATRIX.map((s) => [s.id, s] as const))('schema %s', (_id, schema) => {
  const target = `sm-${schema.id}`;
  let source: TestDatabase;
  let restored: TestDatabase;
  let t: TestRepo;
  let first: Manifest;
  let details: BackupDetails;
  let identities: Identity[];
  const dbs: TestDatabase[] = [];

  beforeAll(async () => {
    source = await createDatabase(`sm_${schema.id}`);
    dbs.push(source);
    for (const sql of schema.setup(ROWS)) await query(source.url, sql);
    t = await createTestRepo({ targets: [{ name: target, url: source.url, verifyTables: schema.verifyTables }] });
    identities = await loadIdentities(t.config);
    const result = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    first = await t.repo.resolve(target, result.id);
    details = await loadDetails(t.repo, first, identities);
  });
  afterAll(async () => {
    for (const name of await scratchDatabases(serverUrl(), target))
      await query(serverUrl(), `drop database if exists "${name}" with (force)`);
    for (const db of dbs) await db.drop();
    await t?.cleanup();
  });

  it('backs up with a checksum for every verifyTables entry as written, and verify --deep reads it all', async () => {
    const checksummed = details.tables.filter((d) => d.checksum !== undefined);
    expect(checksummed).toHaveLength(schema.verifyTables.length);
    // the invoice table is among them, with every seeded row (a partitioned one as a whole)
    const invoiceTable = checksummed.find((d) => displayName(d) === displayName(parsedTable(schema.invoices.table)));
    expect(invoiceTable?.rows).toBe(ROWS);
    const report = await verifyBackup(t.repo, first, { deep: true, identities });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    // rows of a partitioned table are not counted twice (once in the parent, once in its partitions)
    if (schema.id === 'partitioned')
      expect(report.checks.find((c) => c.name === 'decrypt details')?.actual).toBe(
        `${details.tables.length} tables, ${ROWS} rows`,
      );
  });

  it('restores into a fresh database a copy equal to the source: the oracle row for row, every table, view and sequence in full', async () => {
    restored = await createDatabase(`sm_${schema.id}_r`);
    dbs.push(restored);
    const result = await runRestore(
      { config: t.config, repo: t.repo, logger, identities },
      t.config.targets[0]!,
      first,
      { to: restored.url, jobs: 1, clean: false },
    );
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    const [want, got] = [await canonical(source.url, schema), await canonical(restored.url, schema)];
    expect(got).toHaveLength(ROWS);
    expect(got).toEqual(want);
    expect(await contents(restored.url)).toEqual(await contents(source.url));
  });

  it('drills the backup: every check passes', async () => {
    const report = await runDrill(
      { config: drillConfig(t, state.url), repo: t.repo, logger, identities, progress: false },
      t.config.targets[0]!,
    );
    expect(report.cause).toBeUndefined();
    expect(report.verdict).toBe('pass');
    const names = report.checks.map((c) => c.name);
    for (const entry of details.tables.filter((d) => d.checksum !== undefined))
      expect(names).toContain(`checksum ${displayName(entry)}`);
    expect(names).toContain('user tables');
  });

  it('doctor: every check ✓, each verifyTables entry resolved with its rows', async () => {
    const doc: Record<string, unknown> = {
      ...(JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>),
      state: { url: state.url },
    };
    const side = {
      target,
      table: schema.invoices.table,
      columns: schema.invoices.columns,
      ...(schema.invoices.statusMap ? { statusMap: schema.invoices.statusMap } : {}),
      ...(schema.invoices.amountUnit ? { amountUnit: schema.invoices.amountUnit } : {}),
    };
    doc.reconcile = { local: side, upstream: { type: 'postgres', ...side } };
    const config = parseConfig(JSON.stringify(doc), process.env, t.configFile);
    const checks = await runDoctor(config, t.repo, { targets: config.targets, sendTest: false });
    // the mapping is exactly what the user wrote (issue 8): every named column read, nothing else
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    const verify = checks.filter((c) => c.check.startsWith('verifyTables '));
    expect(verify.map((c) => c.check)).toEqual(schema.verifyTables.map((v) => `verifyTables ${v}`));
    const invoiceLine = verify.find((c) => c.detail.startsWith(`${displayName(parsedTable(schema.invoices.table))}`));
    expect(invoiceLine?.detail).toMatch(new RegExp(`, ${ROWS} rows$`));
    if (schema.id === 'partitioned') expect(invoiceLine?.detail).toContain('partitioned: every partition is measured');
    expect(checks.filter((c) => c.check.startsWith('column ') && c.status === 'ok').length).toBe(
      2 * Object.keys(schema.invoices.columns).length,
    );
  });

  it('an extra table in the restored copy fails the check, naming it', async () => {
    await query(restored.url, `create table public."Stray 表" (x int)`);
    try {
      const failed = (await checkAgainstDetails(restored.url, details, { concurrency: 2 })).filter((c) => !c.ok);
      expect(failed).toEqual([
        {
          name: 'user tables',
          ok: false,
          expected: `${details.shape!.tables.length} tables`,
          actual: 'extra: public."Stray 表"',
        },
      ]);
    } finally {
      await query(restored.url, `drop table public."Stray 表"`);
    }
  });

  if (schema.id === 'partitioned') {
    it('a detached partition in the restored copy fails the check', async () => {
      await query(restored.url, `alter table billing.invoices detach partition billing.invoices_2026_10`);
      try {
        const failed = (await checkAgainstDetails(restored.url, details, { concurrency: 2 })).filter((c) => !c.ok);
        expect(failed.map((c) => c.name)).toEqual([
          'rows billing.invoices',
          'checksum billing.invoices',
          'partition billing.invoices_2026_10',
        ]);
        expect(failed[2]!.actual).toBe('not attached (a plain table)');
      } finally {
        await query(
          restored.url,
          `alter table billing.invoices attach partition billing.invoices_2026_10 for values from ('2026-10-01 00:00+08') to ('2026-11-01 00:00+08')`,
        );
      }
    });

    it('after the schema evolves, the next backup measures the new partition as part of the parent', async () => {
      for (const sql of schema.evolve!) await query(source.url, sql);
      const result = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
      const next = await loadDetails(t.repo, await t.repo.resolve(target, result.id), identities);
      const parent = (d: BackupDetails) => d.tables.find((x) => displayName(x) === 'billing.invoices')!;
      expect(parent(details)).toMatchObject({ rows: ROWS, partitioned: true });
      expect(parent(next)).toMatchObject({ rows: ROWS + 1, partitioned: true });
      expect(parent(next).checksum).not.toBe(parent(details).checksum);
      expect(next.shape!.partitions.map((p) => p.partition)).toEqual([
        'billing.invoices_2026_10',
        'billing.invoices_2026_11',
        'billing.invoices_2026_12',
      ]);
      // the first backup's restored copy lacks it: against the new details, it fails on exactly that
      const failed = (await checkAgainstDetails(restored.url, next, { concurrency: 2 })).filter((c) => !c.ok);
      expect(failed.map((c) => `${c.name}: ${c.actual}`)).toEqual([
        `rows billing.invoices: ${ROWS}`,
        `checksum billing.invoices: ${parent(details).checksum}`,
        'rows billing.invoices_2026_12: null',
        'user tables: missing: billing.invoices_2026_12',
        'partition billing.invoices_2026_12: missing',
      ]);
    });
  }

  if (schema.id === 'generated') {
    it('a reset sequence and an emptied materialized view in the restored copy each fail the check', async () => {
      await query(restored.url, `select setval('public.invoice_seq', 1000, false)`);
      await query(restored.url, `create table public.keep as select * from public.invoices`);
      await query(restored.url, `delete from public.invoices`);
      await query(restored.url, `refresh materialized view public.daily_totals`);
      // the rows come back (a generated column cannot be inserted: the others are named), the view stays empty
      await query(
        restored.url,
        `insert into public.invoices (id, invoice_code, invoice_number, issued_at, amount, tax_amount, status, seller_tax_id, buyer_tax_id, payload)
        select id, invoice_code, invoice_number, issued_at, amount, tax_amount, status, seller_tax_id, buyer_tax_id, payload from public.keep`,
      );
      await query(restored.url, `drop table public.keep`);
      const failed = (await checkAgainstDetails(restored.url, details, { concurrency: 2 })).filter((c) => !c.ok);
      const days = details.shape!.materializedViews.find((v) => v.name === 'public.daily_totals')!.rows;
      expect(days).toBe(27);
      expect(failed.map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`)).toEqual([
        'sequence public.invoice_seq: expected last value at least 1299, got never used (reset?)',
        `materialized view public.daily_totals: expected ${days} rows, got 0 rows`,
      ]);
    });
  }
});

function parsedTable(text: string): { schema: string; name: string } {
  const m = /^(?:"([^"]+)"|(\w+))\.(?:"([^"]+)"|(\w+))$/.exec(text);
  if (!m) throw new Error(`test fixture table '${text}' is not schema.table`);
  return { schema: m[1] ?? m[2]!, name: m[3] ?? m[4]! };
}
