// `findings ack` and the findings filters as people run them (needs `npm run build`): a real
// reconcile of planted differences, acknowledged through the CLI, then reconcile and status pass
// with the acknowledgement in every report; a changed finding is reopened; filters and scope.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleDataStatements } from '../../src/demo/sample-data.js';
import { generateTaxExport } from '../../src/demo/tax-export.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

let local: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
const quiet = { env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' } };
const cfg = () => ['--config', t.configFile];
// reconcile.reportDir is relative to the working directory, as for cron
const cli = (args: string[]) => runCli([...args, ...cfg()], { ...quiet, cwd: t.dir });

interface JsonFinding {
  id: string;
  kind: string;
  key: string;
  day: string;
  scope: string;
  acknowledgement?: { by: string; reason: string; at: string };
  reopened?: { changes: string[] };
  acknowledgements?: Array<{ endedAt: string | null; endReason: string | null }>;
  details: { upstream?: { sellerTaxId?: string }; local?: { sellerTaxId?: string } };
}

beforeAll(async () => {
  [local, state] = await Promise.all([createDatabase('ack_local'), createDatabase('ack_state')]);
  const client = new pg.Client({ connectionString: local.url });
  await client.connect();
  // data up to yesterday: "now" is the real clock, nothing pending
  for (const sql of sampleDataStatements({
    invoices: 800,
    days: 20,
    endAt: new Date(Date.now() - 86_400_000).toISOString(),
  }))
    await client.query(sql);
  await client.end();
  t = await createTestRepo({
    targets: [{ name: 'invoices', url: local.url }],
    extra: {
      state: { url: state.url },
      reconcile: { upstream: { type: 'file', path: 'exports/*.csv' }, window: { days: 25 }, reportDir: 'reports' },
    },
  });
  await mkdir(path.join(t.dir, 'exports'));
  await generateTaxExport({
    sourceUrl: local.url,
    out: path.join(t.dir, 'exports', 'a.csv'),
    timezone: 'Asia/Shanghai',
    plant: { missing: 1, pending: 0, extra: 1, amount: 1, status: 1, typo: 0, duplicate: 0, invalid: 0 },
  });
  expect((await cli(['backup'])).code).toBe(0);
}, 400_000);

afterAll(async () => {
  await Promise.all([local?.drop(), state?.drop()]);
  await t?.cleanup();
});

describe('findings ack', () => {
  it('acknowledged through the CLI, reconcile and status exit 0 and every report shows who accepted what', async () => {
    const first = await cli(['reconcile']);
    expect(first.code).toBe(1);
    expect((await cli(['status'])).code).toBe(1);
    const open = JSON.parse((await cli(['findings', '--open', '--json'])).stdout) as JsonFinding[];
    expect(open.map((f) => f.kind).sort()).toEqual(['amount_mismatch', 'extra', 'missing', 'status_mismatch']);
    for (const f of open) expect(f.id).toMatch(/^[0-9a-f]{8}$/);
    const table = (await cli(['findings', '--open'])).stdout;
    expect(table).toMatch(/^scope: postgres:\/\/\S+ public\.invoices <- file:exports\/\*\.csv$/m);
    for (const f of open) expect(table).toContain(f.id);

    // by id (a prefix), by invoice key, and the login name when --by is left out
    const [a, b, c, d] = open;
    const ackA = await cli([
      'findings',
      'ack',
      a!.id.slice(0, 5),
      '--reason',
      '红冲 confirmed by the tax office, ticket 4411',
      '--by',
      'li.wei',
    ]);
    expect(ackA.stderr).toBe('');
    expect(ackA.code).toBe(0);
    expect(ackA.stdout).toContain(`${a!.id} ${a!.kind}`);
    expect(ackA.stdout).toContain('acknowledged by li.wei');
    expect(
      (await cli(['findings', 'ack', b!.key, '--reason', 'entered late, see mail of 11-20', '--by', 'li.wei'])).code,
    ).toBe(0);
    expect((await cli(['findings', 'ack', c!.id, '--reason', 'accepted'])).code).toBe(0);
    // one still failing: reconcile and status fail on it alone
    const partly = await cli(['reconcile']);
    expect(partly.code).toBe(1);
    expect(errorLine(partly)).toMatch(/^fapiao-guard: 1 reconciliation finding\(s\)/);
    expect(
      (await cli(['findings', 'ack', d!.id, '--reason', 'duplicate upload, voided', '--by', 'wang.fang'])).code,
    ).toBe(0);

    const res = await cli(['reconcile']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('共 4 项差异 = 0 项需处理 + 4 项仅供参考。');
    expect(res.stdout).toContain('  仅供参考: 已确认 4');
    expect(res.stdout).toContain('li.wei: 红冲 confirmed by the tax');
    const json = JSON.parse((await cli(['reconcile', '--json'])).stdout);
    expect(json.summary).toMatchObject({ ok: true, failing: 0, acknowledged: 4 });
    const jf = json.findings.find((f: JsonFinding) => f.id === a!.id);
    expect(jf.acknowledgement).toEqual({
      at: expect.any(String),
      by: 'li.wei',
      reason: '红冲 confirmed by the tax office, ticket 4411',
    });
    const reportDir = path.join(t.dir, 'reports');
    const csv = await readFile(path.join(reportDir, `reconcile-${json.run.id}.csv`), 'utf8');
    // Asia/Shanghai: reports in zh-CN; the ids stay in the last two columns
    expect(csv).toContain(',差异编号,确认状态,确认人,确认时间,确认理由,kind_id,cause_id\r\n');
    expect(csv).toMatch(
      new RegExp(
        `,${a!.id},已确认,li\\.wei,\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} \\+08:00,"?红冲 confirmed by the tax office, ticket 4411`,
      ),
    );
    const html = await readFile(path.join(reportDir, `reconcile-${json.run.id}.html`), 'utf8');
    expect(html).toMatch(/已由 wang\.fang 于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00 确认：/);
    expect(html).toContain('4 项已确认的差异不再导致失败');

    const status = await cli(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).findings).toMatchObject({ open: 4, acknowledged: 4 });
    expect((await cli(['status'])).stdout).toContain(
      'open findings: 4 (amount_mismatch 1, extra 1, missing 1, status_mismatch 1) = 0 failing + 4 acknowledged (not failing)',
    );
    const listed = JSON.parse((await cli(['findings', '--open', '--json'])).stdout) as JsonFinding[];
    expect(listed.filter((f) => f.acknowledgement)).toHaveLength(4); // still visible
    expect((await cli(['findings', '--open'])).stdout).toContain('acknowledged by wang.fang: duplicate upload');
  }, 400_000);

  it('a finding that changes after its acknowledgement is reopened and fails again', async () => {
    const before = JSON.parse((await cli(['findings', '--open', '--json'])).stdout) as JsonFinding[];
    const amount = before.find((f) => f.kind === 'amount_mismatch')!;
    const [code, number] = amount.key.includes('-') ? amount.key.split('-') : [null, amount.key];
    const changed = await query(
      local.url,
      `update public.invoices set total_amount = total_amount + 7 where invoice_number = $1 and coalesce(invoice_code, '') = $2 returning id`,
      [number, code ?? ''],
    );
    expect(changed).toHaveLength(1);
    const res = await cli(['reconcile', '--json']);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.summary).toMatchObject({ failing: 1, acknowledged: 3 });
    const reopened = report.findings.find((f: JsonFinding) => f.id === amount.id);
    expect(reopened.acknowledgement).toBeUndefined();
    expect(reopened.reopened.changes.join(' ')).toMatch(/^local\.totalFen \d+ → \d+$/);
    const csv = await readFile(path.join(t.dir, 'reports', `reconcile-${report.run.id}.csv`), 'utf8');
    expect(csv).toContain(`,${amount.id},已重新打开,`);
    const history = (JSON.parse((await cli(['findings', '--open', '--json'])).stdout) as JsonFinding[]).find(
      (f) => f.id === amount.id,
    )!;
    expect(history.acknowledgement).toBeUndefined();
    expect((await cli(['status'])).code).toBe(1);
    // acknowledging it again, as it now is, makes the run pass again
    expect(
      (await cli(['findings', 'ack', amount.id, '--reason', 'second correction booked', '--by', 'li.wei'])).code,
    ).toBe(0);
    expect((await cli(['reconcile'])).code).toBe(0);
  }, 400_000);

  it('filters: --kind, --from/--to, --seller, --scope; clean errors for unknown findings and scopes', async () => {
    const all = JSON.parse((await cli(['findings', '--json'])).stdout) as JsonFinding[];
    expect(all.length).toBeGreaterThanOrEqual(4);
    const kinds = JSON.parse(
      (await cli(['findings', '--json', '--kind', 'missing', '--kind', 'extra'])).stdout,
    ) as JsonFinding[];
    expect(kinds.map((f) => f.kind).sort()).toEqual(['extra', 'missing']);
    const day = all.find((f) => f.kind === 'missing')!.day;
    const oneDay = JSON.parse((await cli(['findings', '--json', '--from', day, '--to', day])).stdout) as JsonFinding[];
    expect(oneDay.length).toBeGreaterThanOrEqual(1);
    expect(oneDay.every((f) => f.day === day)).toBe(true);
    expect(oneDay.length).toBeLessThan(all.length + 1);
    const seller = all.find((f) => f.kind === 'extra')!.details.local!.sellerTaxId!;
    const bySeller = JSON.parse((await cli(['findings', '--json', '--seller', seller])).stdout) as JsonFinding[];
    expect(bySeller.length).toBeGreaterThanOrEqual(1);
    expect(
      bySeller.every((f) => f.details.upstream?.sellerTaxId === seller || f.details.local?.sellerTaxId === seller),
    ).toBe(true);
    const scope = all[0]!.scope;
    expect(JSON.parse((await cli(['findings', '--json', '--scope', scope])).stdout)).toHaveLength(all.length);
    const none = JSON.parse((await cli(['findings', '--json', '--kind', 'duplicate'])).stdout);
    expect(none).toEqual([]);

    const badScope = await cli(['findings', '--scope', 'postgres://elsewhere/db <- file:x']);
    expect(badScope.code).toBe(2);
    expect(errorLine(badScope)).toMatch(
      /^fapiao-guard: no findings recorded for scope 'postgres:\/\/elsewhere\/db <- file:x' \(hint: known scopes: '/,
    );
    expect(errorLine(await cli(['findings', '--from', '2026-13-01']))).toBe(
      "fapiao-guard: --from '2026-13-01' is not a date like 2026-11-01",
    );
    const unknown = await cli(['findings', 'ack', 'ffffffff', '--reason', 'x']);
    expect(unknown.code).toBe(2);
    expect(errorLine(unknown)).toMatch(/^fapiao-guard: no open finding 'ffffffff'/);
    const empty = await cli(['findings', 'ack', all[0]!.id, '--reason', '  ']);
    expect(empty.code).toBe(2);
    expect(await cli(['findings', 'ack', all[0]!.id])).toMatchObject({ code: 2 }); // --reason is required
  }, 400_000);
});
