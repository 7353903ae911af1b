// `demo`: the whole loop on embedded defaults, no S3 account needed: a sample invoice database
// on the local PostgreSQL, a key and a file:// repository under ./.fapiao-guard-demo/, then
// backup → verify --deep → restore into a scratch database → proof that the data matches →
// a restore drill with its HTML report → one invoice lost locally → reconciliation against a
// tax-platform export, which finds the loss and the backup that still holds the invoice.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runBackup, type BackupResult } from '../backup/backup.js';
import { loadIdentities } from '../core/encryption-keys.js';
import { parseConfig, type Config } from '../core/config/config.js';
import { formatIdentityFile, generateIdentity, parseIdentities } from '../core/crypto/index.js';
import { OperationError, UsageError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { quoteIdent, quoteLiteral, withClient, withDatabase } from '../core/pg/connect.js';
import { Repository } from '../core/repository/repository.js';
import { runRestore, type RestoreResult } from '../drill/restore/restore.js';
import { openStorage } from '../core/storage/open-storage.js';
import { type VerifyReport, verifyBackup } from '../drill/verify.js';
import { sampleDataStatements } from './sample-data.js';
import { formatTime } from '../core/format.js';

const DEMO_WINDOW_DAYS = 35;
import { runDrill } from '../drill/drill.js';
import type { DrillReport } from '../drill/drill-report.js';
import { type RunReconcileResult, runReconcile } from '../reconcile/run-reconcile.js';
import { sqlCanonicalKey } from '../reconcile/model/invoice-key.js';
import { type PlantedProblem, generateTaxExport } from './tax-export.js';

export const DEMO_MARKER = 'created by fapiao-guard demo';

/**
 * Database names of one demo folder: a short hash of the folder keeps two checkouts on one
 * server apart (their data, drill history and findings never mix).
 */
export function demoDatabases(dir: string): { source: string; restore: string; state: string } {
  const id = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 6);
  return { source: `fapiao_demo_${id}`, restore: `fapiao_demo_${id}_restore`, state: `fapiao_demo_${id}_state` };
}

export interface DemoOptions {
  dir: string;
  /** server for the sample and scratch databases */
  serverUrl: string;
  invoices: number;
  logger: Logger;
  signal?: AbortSignal;
}

export interface DemoResult {
  dir: string;
  configFile: string;
  databases: { source: string; restore: string; state: string };
  sourceUrl: string;
  backup: BackupResult;
  verify: VerifyReport;
  restore: RestoreResult;
  drill: DrillReport;
  taxExport: { file: string; rows: number; planted: PlantedProblem[] };
  /** an invoice deleted from the sample database after the backup (planted too: missing, cause in_backup) */
  deletedAfterBackup?: { key: string; backupId: string };
  reconcile: RunReconcileResult;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = demoDatabases(dir);
  const marker = `${DEMO_MARKER} in ${dir}`;
  const sourceUrl = withDatabase(options.serverUrl, names.source);
  const stateUrl = withDatabase(options.serverUrl, names.state);
  await createSampleDatabase(options, names, marker, sourceUrl);
  const config = await demoConfig(dir, sourceUrl, stateUrl);
  const repo = new Repository(await openStorage(config.repository.url, { logger: options.logger }));
  await repo.init(config.encryption.recipients);
  const { backup, verify, restore, drill } = await backupToDrill(options, config, repo, names.restore, marker);
  const { window, taxExport, deleted } = await auditorSide(dir, config, sourceUrl, backup.id);
  const reconcile = await runReconcile({
    config,
    logger: options.logger,
    ...window,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    dir,
    configFile: path.join(dir, 'fapiao-guard.yaml'),
    databases: names,
    sourceUrl,
    backup,
    verify,
    restore,
    drill,
    taxExport,
    ...(deleted ? { deletedAfterBackup: { key: deleted, backupId: backup.id } } : {}),
    reconcile,
  };
}

/** The sample invoice database made afresh (the state database kept: history survives demo runs). */
async function createSampleDatabase(
  options: DemoOptions,
  names: DemoResult['databases'],
  marker: string,
  sourceUrl: string,
): Promise<void> {
  options.logger.info({ invoices: options.invoices, database: names.source }, 'creating the sample invoice database');
  await prepareDemoDatabase(options.serverUrl, names.source, marker, 'recreate');
  await prepareDemoDatabase(options.serverUrl, names.state, marker, 'keep'); // history survives demo runs
  await withClient(sourceUrl, async (client) => {
    for (const sql of sampleDataStatements({ invoices: options.invoices, days: 35 })) await client.query(sql);
  });
}

/** The operator's side: a backup, verified deep, restored into a fresh database, and drilled. */
async function backupToDrill(
  options: DemoOptions,
  config: Config,
  repo: Repository,
  restoreDatabase: string,
  marker: string,
): Promise<Pick<DemoResult, 'backup' | 'verify' | 'restore' | 'drill'>> {
  const signal = options.signal ? { signal: options.signal } : {};
  const target = config.targets[0]!;
  const backup = await runBackup({ config, repo, logger: options.logger, ...signal }, target);

  const identities = await loadIdentities(config);
  const manifest = await repo.resolve(target.name, backup.id);
  const verify = await verifyBackup(repo, manifest, { deep: true, identities, ...signal });

  await prepareDemoDatabase(options.serverUrl, restoreDatabase, marker, 'recreate');
  const restore = await runRestore({ config, repo, logger: options.logger, identities, ...signal }, target, manifest, {
    to: withDatabase(options.serverUrl, restoreDatabase),
    jobs: 1,
    clean: false,
  });
  const drill = await runDrill({ config, repo, logger: options.logger, ...signal }, target);
  return { backup, verify, restore, drill };
}

/**
 * The auditor's side: a tax-platform export of the same invoices, with problems planted in it,
 * and one invoice lost locally after the backup (planted too: missing, cause in_backup).
 */
async function auditorSide(
  dir: string,
  config: Config,
  sourceUrl: string,
  backupId: string,
): Promise<{ window: { from: string; to: string }; taxExport: DemoResult['taxExport']; deleted: string | undefined }> {
  const exportsDir = path.join(dir, 'exports');
  await rm(exportsDir, { recursive: true, force: true });
  await mkdir(exportsDir, { recursive: true });
  // Export and plant only inside the reconciliation window, so every planted problem can be found.
  const today = formatTime(new Date(), config.timezone).slice(0, 10);
  const from = formatTime(
    new Date(Date.parse(`${today}T12:00:00Z`) - (DEMO_WINDOW_DAYS - 1) * 86_400_000),
    config.timezone,
  ).slice(0, 10);
  const taxExport = await generateTaxExport({
    sourceUrl,
    out: path.join(exportsDir, '全量发票查询导出结果.xlsx'),
    timezone: config.timezone,
    from,
    to: today,
  });
  // A loss after the backup: the export still has the invoice, the backup too, the table no longer.
  const deleted = await deleteOneInvoice(
    sourceUrl,
    config.timezone,
    from,
    taxExport.planted.map((p) => p.key),
  );
  if (deleted)
    taxExport.planted.push({
      kind: 'missing',
      cause: 'in_backup',
      key: deleted,
      detail: `deleted locally after backup ${backupId}`,
    });
  return { window: { from, to: today }, taxExport, deleted };
}

/**
 * Delete one invoice of the window that no planted problem touches, from the middle of the window
 * (older than a day: never pending sync); its line items go with it (on delete cascade).
 */
async function deleteOneInvoice(
  sourceUrl: string,
  timezone: string,
  from: string,
  planted: string[],
): Promise<string | undefined> {
  return withClient(sourceUrl, async (client) => {
    const { rows } = await client.query<{ id: string; key: string }>(
      `with c as (select id, ${sqlCanonicalKey('invoice_code', 'invoice_number')} as key from public.invoices
                   where issued_at >= ($2::date::timestamp at time zone $1) and issued_at < now() - interval '1 day')
       select id::text, key from c where key <> all($3::text[]) order by id offset (select count(*) / 2 from c) limit 1`,
      [timezone, from, planted],
    );
    const victim = rows[0];
    if (!victim) return undefined;
    await client.query('delete from public.invoices where id = $1', [victim.id]);
    return victim.key;
  });
}

/** The demo's key and config: made on first run, reused after. */
async function demoConfig(dir: string, sourceUrl: string, stateUrl: string): Promise<Config> {
  const keyFile = path.join(dir, 'age.key');
  let recipient: string;
  try {
    recipient = parseIdentities(await readFile(keyFile, 'utf8'), keyFile)[0]!.recipient;
  } catch {
    const pair = generateIdentity();
    await writeFile(keyFile, formatIdentityFile(pair.identity), { mode: 0o600 });
    recipient = pair.recipient;
  }
  const text = `# Written by 'fapiao-guard demo'. Try: npx fapiao-guard list --config ${path.relative(process.cwd(), dir) || '.'}/fapiao-guard.yaml
timezone: Asia/Shanghai
state:
  url: ${stateUrl}
repository:
  url: ${pathToFileURL(path.join(dir, 'repo')).href}
encryption:
  recipients: [${recipient}]
  identityFile: ${keyFile}
targets:
  - name: invoices
    url: ${sourceUrl}
    verifyTables: [public.invoices, public.invoice_items]
drill:
  reportDir: ${path.join(dir, 'reports')}
  rtoObjective: 15m
  rpoObjective: 26h
  assertions:
    - name: totals add up
      sql: select count(*) from public.invoices where total_amount <> amount + tax_amount
      expect: 0
    - name: every invoice has line items
      sql: select count(*) from public.invoices i where not exists (select 1 from public.invoice_items t where t.invoice_id = i.id)
      expect: 0
reconcile:
  window: { days: ${DEMO_WINDOW_DAYS} }
  syncLag: 2h
  local: { target: invoices, table: public.invoices }
  upstream: { type: file, path: ${path.join(dir, 'exports', '*.xlsx')} }
  reportDir: ${path.join(dir, 'reports')}
`;
  const file = path.join(dir, 'fapiao-guard.yaml');
  await writeFile(file, text);
  return parseConfig(text, process.env, file);
}

/**
 * Create a demo database, or (`recreate`) drop and create it, but only one that this demo
 * folder created: its comment names the folder.
 */
async function prepareDemoDatabase(
  serverUrl: string,
  name: string,
  marker: string,
  mode: 'recreate' | 'keep',
): Promise<void> {
  await withClient(withDatabase(serverUrl, 'postgres'), async (admin) => {
    const { rows } = await admin.query<{ comment: string | null }>(
      'select shobj_description(oid, $2) as comment from pg_database where datname = $1',
      [name, 'pg_database'],
    );
    if (rows.length > 0) {
      if (rows[0]!.comment !== marker) {
        throw new UsageError(
          `database '${name}' exists and was not created by this demo folder; refusing to touch it`,
          { hint: 'drop or rename it yourself, or use another --dir or --server' },
        );
      }
      if (mode === 'keep') return;
      await admin.query(`drop database ${quoteIdent(name)} with (force)`);
    }
    await admin.query(`create database ${quoteIdent(name)}`);
    await admin.query(`comment on database ${quoteIdent(name)} is ${quoteLiteral(marker)}`);
  }).catch((err: unknown) => {
    if (err instanceof OperationError || err instanceof UsageError) throw err;
    throw new OperationError(`cannot prepare demo database '${name}': ${(err as Error).message}`, {
      hint: 'the demo needs a role that may create databases',
    });
  });
}
