// `demo` as people run it first (needs `npm run build`): the summary tells the whole story,
// including the invoice lost locally after the backup and the backup that still holds it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoDatabases } from '../../src/demo/demo.js';
import { runCli } from '../helpers/cli.js';
import { query, serverUrl } from '../helpers/pg.js';

let dir: string | undefined;

afterAll(async () => {
  if (!dir) return;
  for (const name of Object.values(demoDatabases(dir)))
    await query(serverUrl(), `drop database if exists ${name} with (force)`);
  await rm(dir, { recursive: true, force: true });
});

describe('fapiao-guard demo', () => {
  it('finds every planted problem, the invoice deleted after the backup as missing in_backup', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fgt-demo-'));
    const res = await runCli(['demo', '--dir', dir, '--server', serverUrl(), '--invoices', '5000'], {
      env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' },
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const backup = /2\. backup +(\d{8}T\d{6}Z-[0-9a-f]{4})/.exec(res.stdout)?.[1];
    expect(backup).toBeDefined();
    const planted = Number(/with (\d+) planted problems/.exec(res.stdout)?.[1]);
    expect(res.stdout).toContain(`(1 of them deleted locally after backup ${backup}: invoice `);
    expect(res.stdout).toContain(`found ${planted} of them against public.invoices`);
    // the export's row count is what reconcile read: its accepted rows plus the rejected (damaged) ones
    const exported = Number(/7\. reconcile +(\d+) rows in a tax-platform export/.exec(res.stdout)?.[1]);
    const read =
      /reconcile read (\d+) rows = (\d+) accepted \+ (\d+) rejected; (\d+) distinct invoices \+ (\d+) duplicate rows/
        .exec(res.stdout)
        ?.slice(1)
        .map(Number);
    expect(read).toBeDefined();
    const [total, accepted, rejected, distinct, duplicates] = read!;
    expect(total).toBe(exported);
    expect(accepted! + rejected!).toBe(total);
    expect(distinct! + duplicates!).toBe(accepted);
    expect(rejected).toBeGreaterThan(0); // the demo plants damaged rows
    expect(duplicates).toBeGreaterThan(0); // and a duplicated one
    expect(res.stdout).toMatch(
      new RegExp(`1 missing invoice\\(s\\) still in a backup \\(cause in_backup\\): \\S+ in backup ${backup}`),
    );
  });
});
