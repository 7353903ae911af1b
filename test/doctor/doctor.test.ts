// `doctor` against live systems: a healthy setup is all ✓ (exit 0); each thing an operator gets
// wrong after editing the config is one ✗ line naming it, with the fix (exit 1); a config error is
// exit 2. Real PostgreSQL, real pg_dump, a real file repository, a local HTTP receiver.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/core/config/config.js';
import { formatIdentityFile, generateIdentity } from '../../src/core/crypto/index.js';
import { doctorExitCode, pgDumpFits, renderDoctor, type DoctorCheck } from '../../src/doctor/doctor-checks.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { Repository } from '../../src/core/repository/repository.js';
import { MIGRATIONS } from '../../src/core/state/migrations/index.js';
import { FileStorage } from '../../src/core/storage/file-storage.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, query, serverUrl } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { type HttpReceiver, startHttpReceiver } from '../notify/receivers.js';
import { SCHEMA_MATRIX } from '../schema-matrix/schemas.js';

const quoted = SCHEMA_MATRIX.find((s) => s.id === 'quoted')!;
// reconcile reads the partitioned schema's table (ASCII names: reconcile's own identifier support is issue 8's other half)
const partitioned = SCHEMA_MATRIX.find((s) => s.id === 'partitioned')!;
let source: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let receiver: HttpReceiver;
let base: Record<string, unknown>;
const role = `fgt_doctor_${randomBytes(3).toString('hex')}`;

const EXPORT = [
  '发票代码,发票号码,开票日期,金额,税额,价税合计,发票状态,销方识别号,购方识别号',
  '031000000001,00000001,2026-11-20 10:00:00,100.00,13.00,113.00,正常,91310110666007217T,91110000600037341L',
  '031000000001,00000002,2026-11-20 11:00:00,200.00,26.00,226.00,正常,91310110666007217T,91110000600037341L',
].join('\n');

beforeAll(async () => {
  source = await createDatabase('doctor');
  state = await createDatabase('doctor_state');
  for (const sql of [...quoted.setup(20), ...partitioned.setup(20)]) await query(source.url, sql);
  t = await createTestRepo({ targets: [{ name: 'shop', url: source.url, verifyTables: quoted.verifyTables }] });
  receiver = await startHttpReceiver();
  await writeFile(path.join(t.dir, 'export.csv'), EXPORT);
  base = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
  base.state = { url: state.url };
  base.reconcile = {
    local: { target: 'shop', table: partitioned.invoices.table, columns: partitioned.invoices.columns },
    upstream: { type: 'file', path: path.join(t.dir, 'export.csv') },
  };
  base.notify = [{ type: 'webhook', url: `${receiver.url}/hook` }];
});
afterAll(async () => {
  await receiver?.close();
  await Promise.all([source?.drop(), state?.drop()]);
  await query(serverUrl(), `drop role if exists ${role}`).catch(() => undefined);
  await t?.cleanup();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests edit the YAML document freely
function configWith(edit: (doc: any) => void = () => undefined): Config {
  const doc = structuredClone(base);
  edit(doc);
  return parseConfig(JSON.stringify(doc), process.env, t.configFile);
}

async function doctor(config: Config, sendTest = false): Promise<DoctorCheck[]> {
  const repo = new Repository(new FileStorage(config.repository.url));
  return runDoctor(config, repo, { targets: config.targets, sendTest, now: new Date('2026-11-27T16:30:00Z') });
}

const notOk = (checks: DoctorCheck[]) =>
  checks
    .filter((c) => c.status !== 'ok')
    .map((c) => `${c.status} ${c.section}: ${c.check}: ${c.detail}${c.fix ? ` | ${c.fix}` : ''}`);

describe('doctor', () => {
  it('a healthy setup: every check ✓, one line each, exit 0', async () => {
    const checks = await doctor(configWith());
    expect(notOk(checks)).toEqual([]);
    expect(checks.map((c) => `${c.section}: ${c.check}`)).toEqual([
      'target shop: connection',
      'target shop: snapshot',
      'target shop: read rights',
      'target shop: pg_dump',
      'target shop: verifyTables "财务"."发票 主表"',
      'target shop: verifyTables "财务"."TaxRate"',
      'reconcile.local: table billing.invoices',
      ...['code', 'number', 'issuedAt', 'total', 'status', 'sellerTaxId', 'buyerTaxId', 'amount', 'tax'].map(
        (f) => `reconcile.local: column ${f}`,
      ),
      'reconcile.upstream: file',
      'repository: initialised',
      'repository: writable',
      'encryption: identity file',
      'state: database',
      'notify: webhook',
    ]);
    expect(checks.find((c) => c.check === 'verifyTables "财务"."TaxRate"')!.detail).toBe('"财务"."TaxRate", 3 rows');
    expect(checks.find((c) => c.check === 'file')!.detail).toMatch(/1 file .* 2 invoices valid, 0 rows rejected/);
    expect(doctorExitCode(checks)).toBe(0);
    expect(
      renderDoctor(checks)
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('✓ ')),
    ).toBe(true);
    expect(receiver.requests).toEqual([]); // no message without --send-test
    // the repository probe is gone again
    const repo = new Repository(new FileStorage(t.repoUrl));
    const left: string[] = [];
    for await (const o of repo.storage.list('doctor/')) left.push(o.name);
    expect(left).toEqual([]);
  });

  it('names a wrong verifyTables entry, a missing or unreadable reconcile column, with the fix', async () => {
    const checks = await doctor(
      configWith((doc) => {
        doc.targets[0].verifyTables = ['"财务".taxrate', '财务."TaxRate"'];
        doc.reconcile.local.columns = {
          ...partitioned.invoices.columns,
          number: '"Invoice_Number"',
          sellerTaxId: 'issued_at',
          total: 'seller_tax_id',
        };
      }),
    );
    expect(notOk(checks)).toEqual([
      `failed target shop: verifyTables "财务".taxrate: verify table '"财务".taxrate' not found in database '${source.name}' | did you mean "财务"."TaxRate"? (write it as shown: quotes keep upper case and spaces)`,
      "failed reconcile.local: column number: 'Invoice_Number' has no column 'Invoice_Number' (it has invoice_code, invoice_number, issued_at, amount, tax_amount, total_amount, status, seller_tax_id, buyer_tax_id) | did you mean 'invoice_number'? (quote it in the mapping to keep its case)",
      "failed reconcile.local: column total: 'seller_tax_id' (character varying(20)) is not numeric, an integer or money: cast it in reconcile.*.query | fix reconcile.local.columns.total",
      "failed reconcile.local: column sellerTaxId: 'issued_at' (timestamp with time zone) is not a text type: cast it to text in reconcile.*.query | fix reconcile.local.columns.sellerTaxId",
    ]);
    expect(doctorExitCode(checks)).toBe(1);
  });

  it('a role that cannot read a table, an unreachable target', async () => {
    await query(serverUrl(), `create role ${role} login`);
    await query(source.url, `grant usage on schema "财务" to ${role}; grant select on "财务"."发票 主表" to ${role}`);
    const asRole = new URL(source.url);
    asRole.username = role;
    const checks = await doctor(
      configWith((doc) => {
        doc.targets = [
          { name: 'shop', url: asRole.toString(), verifyTables: [] },
          { name: 'down', url: 'postgres://postgres@127.0.0.1:1/nope', verifyTables: ['public.x'] },
        ];
        delete doc.reconcile;
      }),
    );
    expect(notOk(checks)).toEqual([
      `failed target shop: read rights: '${role}' cannot read 3 relations: billing.invoices_2026_10, billing.invoices_2026_11, "财务"."TaxRate" | grant usage on schema billing to ${role}; grant select on all tables in schema billing to ${role} (or use the pg_read_all_data role)`,
      expect.stringMatching(
        /^failed target down: connection: cannot connect to 'postgres:\/\/postgres@127\.0\.0\.1:1\/nope': .*ECONNREFUSED/,
      ),
      'unchecked target down: snapshot: not checked: no connection',
      'unchecked target down: read rights: not checked: no connection',
      'unchecked target down: pg_dump: not checked: no connection',
      'unchecked target down: verifyTables public.x: not checked: no connection',
    ]);
  });

  it('an upstream file with rejected rows, an uninitialised repository, a foreign identity, a state database from a newer version, an undeliverable notifier', async () => {
    await writeFile(
      path.join(t.dir, 'bad.csv'),
      `${EXPORT}\n031000000001,00000003,2026-11-20 12:00:00,abc,13.00,113.00,正常,91310110666007217T,91110000600037341L`,
    );
    const other = generateIdentity();
    await writeFile(path.join(t.dir, 'other.key'), formatIdentityFile(other.identity), { mode: 0o600 });
    await mkdir(path.join(t.dir, 'empty-repo'));
    await query(
      state.url,
      `create schema if not exists fapiao_guard; create table if not exists fapiao_guard.schema_migrations (version int primary key, name text not null, applied_at timestamptz not null default now()); insert into fapiao_guard.schema_migrations values (999, 'future') on conflict do nothing`,
    );
    try {
      receiver.answers = [{ status: 500, body: 'down' }];
      const checks = await doctor(
        configWith((doc) => {
          doc.targets[0].verifyTables = [];
          doc.reconcile.upstream.path = path.join(t.dir, 'bad.csv');
          doc.repository.url = pathToFileURL(path.join(t.dir, 'empty-repo')).href;
          doc.encryption.identityFile = path.join(t.dir, 'other.key');
          doc.notify[0].retries = 0;
        }),
        true,
      );
      const lines = notOk(checks);
      expect(lines[0]).toMatch(
        /^failed reconcile\.upstream: file: 1 file .*, 2 invoices valid, 1 rows rejected \| first rejected row: bad\.csv:4: /,
      );
      expect(lines.slice(1)).toEqual([
        `failed repository: initialised: no fapiao-guard repository at '${pathToFileURL(path.join(t.dir, 'empty-repo')).href}' | run 'fapiao-guard init' first`,
        'unchecked repository: writable: not checked: repository not readable or not initialised',
        `failed encryption: identity file: ${path.join(t.dir, 'other.key')} holds no key of the configured recipients: backups would not decrypt with it | point encryption.identityFile at the key 'fapiao-guard keygen' made for these recipients`,
        `failed state: migrations: state database is at migration 999, this version knows up to ${MIGRATIONS.at(-1)!.version} | upgrade fapiao-guard on this host (a newer one migrated the state database)`,
        expect.stringMatching(/^failed notify: webhook: test message not delivered: .*500/),
      ]);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      receiver.answers = [{ status: 200, body: 'ok' }];
      await query(state.url, `delete from fapiao_guard.schema_migrations where version = 999`);
    }
  });

  it('--send-test delivers one test message', async () => {
    receiver.requests.length = 0;
    const checks = await doctor(
      configWith((doc) => delete doc.reconcile),
      true,
    );
    expect(checks.find((c) => c.section === 'notify')).toMatchObject({ status: 'ok', detail: 'test message sent' });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.body).toContain('doctor: test message');
  });

  it('the CLI: ✗ lines and exit 1, --json, exit 2 on a config error', async () => {
    const file = path.join(t.dir, 'doctor.yaml');
    await writeFile(
      file,
      JSON.stringify({
        ...base,
        targets: [{ name: 'shop', url: source.url, verifyTables: ['public.nope'] }],
        reconcile: undefined,
        notify: undefined,
      }),
    );
    const res = await runCli(['doctor', '--config', file]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      /^✗ target shop: verifyTables public\.nope: verify table 'public\.nope' not found in database '\w+' \(fix: .*\)$/m,
    );
    expect(res.stdout).toMatch(/^✓ repository: writable: /m);
    expect(errorLine(res)).toMatch(/doctor: 1 of \d+ checks failed, first: target shop: verifyTables public\.nope/);
    const json = await runCli(['doctor', '--json', '--config', file]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).find((c: DoctorCheck) => c.status === 'failed')).toMatchObject({
      section: 'target shop',
      check: 'verifyTables public.nope',
    });
    await writeFile(
      file,
      JSON.stringify({ ...base, targets: [{ name: 'shop', url: source.url, verifyTables: ['public.发票 附件'] }] }),
    );
    const bad = await runCli(['doctor', '--config', file]);
    expect(bad.code).toBe(2);
    expect(errorLine(bad)).toMatch(/verifyTables\[0\]: 'public\.发票 附件': a name with a space must be quoted/);
  }, 180_000); // three CLI runs, each connecting everywhere: slow on a loaded 2-core machine
});

describe('doctor judgements (pure)', () => {
  it('pg_dump must be of the server major or newer', () => {
    expect(pgDumpFits('15.20', '15.4')).toBe(true);
    expect(pgDumpFits('17.2', '15.4')).toBe(true);
    expect(pgDumpFits('14.11', '15.4')).toBe(false);
  });
  it('exit 1 when a check failed, 3 when one could not run, else 0', () => {
    const c = (status: DoctorCheck['status']): DoctorCheck => ({ section: 's', check: 'c', status, detail: 'd' });
    expect(doctorExitCode([c('ok'), c('unchecked'), c('failed')])).toBe(1);
    expect(doctorExitCode([c('ok'), c('unchecked')])).toBe(3);
    expect(doctorExitCode([c('ok')])).toBe(0);
  });
});
