// "Why is invoice X missing locally?" An invoice deleted after a backup is missing with cause
// in_backup naming the newest backup that holds it; one that never arrived stays plain missing;
// when the lookup cannot run (no key, lookup off, local side a query) a missing invoice carries
// evidence.notLookedUp, its cause reads "not looked up" and every rendering says why in words.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { silentLogger } from '../../src/core/logger.js';
import { shownCause } from '../../src/reconcile/engine/backup-lookup.js';
import { listFindings } from '../../src/reconcile/findings/findings-store.js';
import { DEFAULT_LOCAL_COLUMNS } from '../../src/reconcile/reconcile-config.js';
import { renderReconcileText } from '../../src/reconcile/report/report-terminal.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { withStateDb } from '../../src/core/state/state-db.js';
import { type TestDatabase, createDatabase, createSampleDatabase, query, queryOne } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { TEST_NOW } from './helpers.js';

const logger = silentLogger();
let local: TestDatabase;
let upstream: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let lost = '';
const NEVER = '26312000000088888888';
const window = () => ({ from: '2026-10-20', to: '2026-11-27', now: TEST_NOW, logger, reportDir: `${t.dir}/reports` });

beforeAll(async () => {
  // the same deterministic sample on both sides
  [local, upstream, state] = await Promise.all([
    createSampleDatabase('lk_lo', 1500),
    createSampleDatabase('lk_up', 1500),
    createDatabase('lk_state'),
  ]);
  await query(
    upstream.url,
    `insert into public.invoices (invoice_number, kind, issued_at, seller_tax_id, seller_name, buyer_name, amount, tax_rate, tax_amount, total_amount)
    values ('${NEVER}', 'digital', '2026-11-20T03:00:00Z', '91310110666007217T', '上海', '个人', 100, 0.13, 13, 113)`,
  );
  const row = await queryOne<{ code: string | null; number: string }>(
    local.url,
    'select invoice_code as code, invoice_number as number from public.invoices where id = 1200',
  );
  lost = row.code ? `${row.code}-${row.number}` : row.number;
  t = await createTestRepo({
    targets: [{ name: 'invoices', url: local.url }],
    extra: {
      state: { url: state.url },
      reconcile: {
        local: { target: 'invoices', table: 'public.invoices' },
        upstream: { type: 'postgres', url: upstream.url, table: 'public.invoices', columns: DEFAULT_LOCAL_COLUMNS },
      },
    },
  });
});

afterAll(async () => {
  await Promise.all([local?.drop(), upstream?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('missing invoices looked up in backups', () => {
  it('deleted after a backup: missing with cause in_backup and that backup; never present: plain missing', async () => {
    const older = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    await query(local.url, 'delete from public.invoices where id = 1200');
    const { report } = await runReconcile({ config: t.config, ...window() });
    const missing = report.findings.filter((f) => f.kind === 'missing');
    expect(missing.map((f) => [f.key, f.cause ?? null]).sort()).toEqual(
      [
        [NEVER, null],
        [lost, 'in_backup'],
      ].sort(),
    );
    const found = missing.find((f) => f.key === lost)!;
    expect(found.evidence).toMatchObject({ inBackup: older.id, backupFinishedAt: older.finishedAt });
    expect(found.evidence.notInLaterBackup).toBeUndefined();
    expect(report.summary.inBackup).toBe(1);
    expect(report.run.parameters.backupLookup).toMatchObject({
      limit: 7,
      target: 'invoices',
      searched: [older.id],
      found: 1,
    });
    // persisted with its cause
    const stored = await withStateDb(t.config, (c) => listFindings(c, { open: true }));
    expect(stored.find((f) => f.key === lost)?.cause).toBe('in_backup');

    // a newer backup no longer holds it: the older one is named, and the newer bounds the loss
    const newer = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    const again = (await runReconcile({ config: t.config, ...window() })).report;
    expect(again.findings.find((f) => f.key === lost)?.evidence).toMatchObject({
      inBackup: older.id,
      notInLaterBackup: newer.id,
    });
    expect(again.run.parameters.backupLookup?.searched).toEqual([newer.id, older.id]);
    // the newest backup only: nobody holds it any more
    const one = (
      await runReconcile({ config: t.config, reconcile: { ...t.config.reconcile!, backupLookup: 1 }, ...window() })
    ).report;
    expect(one.findings.find((f) => f.key === lost)?.cause).toBeUndefined();
  });

  it('without an identity file, or with backupLookup 0, missing invoices read "not looked up" and the report says why', async () => {
    const noKey = { ...t.config, encryption: { recipients: t.config.encryption.recipients } };
    const a = (await runReconcile({ config: noKey, persist: false, ...window() })).report;
    // the cause stays what the comparison found (plain missing); the evidence and every rendering say it was not looked up
    expect(a.findings.find((f) => f.key === lost)).toMatchObject({
      evidence: { notLookedUp: expect.stringMatching(/no encryption\.identityFile configured/) },
    });
    expect(a.findings.find((f) => f.key === lost)?.cause).toBeUndefined();
    expect(a.run.parameters.backupLookup).toMatchObject({
      skippedCode: 'no_identity',
      skipped: expect.stringMatching(/no encryption\.identityFile configured/),
    });
    expect(JSON.stringify(a.run.parameters)).not.toMatch(/AGE-SECRET-KEY/);

    const off = (
      await runReconcile({
        config: t.config,
        reconcile: { ...t.config.reconcile!, backupLookup: 0 },
        persist: false,
        ...window(),
      })
    ).report;
    expect(off.findings.find((f) => f.key === lost)?.evidence.notLookedUp).toBe('disabled (reconcile.backupLookup: 0)');
    expect(off.run.parameters.backupLookup).toMatchObject({
      skipped: 'disabled (reconcile.backupLookup: 0)',
      skippedCode: 'disabled',
      searched: [],
    });
  });

  it('local side given as a query, or an identity file that is not there: the HTML, CSV and terminal say "not looked up" (未查备份) and why', async () => {
    const rc = t.config.reconcile!;
    const { table: _table, ...side } = rc.local;
    const asQuery = { ...rc, local: { ...side, query: 'select * from public.invoices' } };
    const q = await runReconcile({
      config: { ...t.config, reports: { language: 'zh-CN' } },
      reconcile: asQuery,
      persist: false,
      ...window(),
    });
    const missing = q.report.findings.filter((f) => f.kind === 'missing');
    expect(missing.map((f) => shownCause(f))).toEqual(['not_looked_up', 'not_looked_up']); // NEVER too: unknown, not "never arrived"
    expect(q.report.run.parameters.backupLookup?.skippedCode).toBe('not_a_target');
    const html = await readFile(q.files.html, 'utf8');
    expect(html).toMatch(
      /<p class="warn"><b>备份查找:<\/b> 未在备份中查找缺失发票：本地一侧不是某个已配置备份目标的表/,
    );
    expect(html).toContain('<i class="cause c-not_looked_up">未查备份</i>');
    const csv = await readFile(q.files.csv, 'utf8');
    expect(csv).toMatch(/^# 备份查找: 未在备份中查找缺失发票：本地一侧不是某个已配置备份目标的表/m);
    expect(csv.split('\r\n').filter((l) => l.startsWith('本地缺失（仅上游有）,未查备份,')).length).toBe(2);
    const text = renderReconcileText(q.report, q.files);
    expect(text).toMatch(/^备份查找: 未在备份中查找缺失发票/m);
    expect(text).toMatch(/本地缺失（仅上游有） +未查备份/);

    const gone = {
      ...t.config,
      reports: { language: 'en' as const },
      encryption: { ...t.config.encryption, identityFile: `${t.dir}/no-such-identity.txt` },
    };
    const g = await runReconcile({ config: gone, persist: false, ...window() });
    expect(g.report.run.parameters.backupLookup?.skippedCode).toBe('identity_unreadable');
    expect(shownCause(g.report.findings.find((f) => f.key === lost)!)).toBe('not_looked_up');
    expect(g.report.findings.find((f) => f.key === lost)?.evidence.notLookedUp).toMatch(/no-such-identity\.txt/);
    const enHtml = await readFile(g.files.html, 'utf8');
    expect(enHtml).toMatch(
      /Missing invoices were not looked up in the backups: [^<]*no-such-identity\.txt[^<]*Their cause reads &quot;not looked up&quot;; it does not mean they never arrived\./,
    );
    expect(await readFile(g.files.csv, 'utf8')).toMatch(
      /^missing locally \(upstream only\),not looked up,.*,missing,not_looked_up$/m,
    );
  });
});
