// The key index a backup carries for reconciliation (invoice-keys.age): only for the reconcile
// target, the table's canonical keys in byte order, readable with stock age + zstd, verified.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/backup/backup.js';
import { loadIdentities } from '../../src/core/encryption-keys.js';
import { INVOICE_KEYS_NAME } from '../../src/backup/invoice-keys.js';
import { parseConfig } from '../../src/core/config/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { canonicalKey } from '../../src/reconcile/model/invoice-key.js';
import { verifyBackup } from '../../src/drill/verify.js';
import { type TestDatabase, createSampleDatabase, query } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';

const logger = silentLogger();
let source: TestDatabase;
let t: TestRepo;

beforeAll(async () => {
  source = await createSampleDatabase('keys', 1500);
  // a key with a code, one without, one with spaces to trim: the canonical forms must match the reconciler's
  await query(source.url, `update public.invoices set invoice_number = invoice_number || ' ' where id = 7`);
  t = await createTestRepo({
    targets: [
      { name: 'invoices', url: source.url },
      { name: 'other', url: source.url },
    ],
    extra: {
      reconcile: {
        local: { target: 'invoices', table: 'public.invoices' },
        upstream: { type: 'file', path: 'exports/*.csv' },
      },
    },
  });
});

afterAll(async () => {
  await source?.drop();
  await t?.cleanup();
});

async function expectedKeys(): Promise<string[]> {
  const rows = await query<{ code: string | null; number: string }>(
    source.url,
    'select invoice_code as code, invoice_number as number from public.invoices',
  );
  return rows.map((r) => canonicalKey(r.code, r.number)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

describe('invoice-keys.age', () => {
  it('is written for the reconcile target only: its sorted canonical keys, read back with age and zstd', async () => {
    const backup = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[0]!);
    const manifest = await t.repo.resolve('invoices', backup.id);
    const object = manifest.objects.find((o) => o.name === INVOICE_KEYS_NAME);
    expect(object).toMatchObject({ layers: ['keys:text', 'zstd', 'age'] });

    const file = fileURLToPath(`${t.repoUrl}/backups/invoices/${backup.id}/${INVOICE_KEYS_NAME}`);
    const text = execFileSync('sh', ['-c', `age -d -i '${t.identityFile}' '${file}' | zstd -d`], { encoding: 'utf8' });
    const keys = await expectedKeys();
    expect(text).toBe(`${keys.join('\n')}\n`);
    expect(object!.plainSize).toBe(Buffer.byteLength(text));

    const other = await runBackup({ config: t.config, repo: t.repo, logger }, t.config.targets[1]!);
    expect(other.objects.map((o) => o.name)).not.toContain(INVOICE_KEYS_NAME);
  });

  it('is verified like every object; --deep reads every key; tampering is detected', async () => {
    const manifest = await t.repo.resolve('invoices', 'latest');
    const identities = await loadIdentities(t.config);
    const deep = await verifyBackup(t.repo, manifest, { deep: true, identities });
    expect(deep.checks.filter((c) => !c.ok)).toEqual([]);
    expect(deep.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([`sha256 ${INVOICE_KEYS_NAME}`, `decrypt ${INVOICE_KEYS_NAME}`]),
    );
    expect(deep.checks.find((c) => c.name === `decrypt ${INVOICE_KEYS_NAME}`)?.actual).toBe(
      '1500 invoice keys, sorted',
    );

    const file = path.join(fileURLToPath(t.repoUrl), 'backups', 'invoices', manifest.id, INVOICE_KEYS_NAME);
    const original = await readFile(file);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 40]! ^= 0x01;
    await writeFile(file, damaged);
    try {
      const shallow = await verifyBackup(t.repo, manifest, { deep: false });
      expect(shallow.ok).toBe(false);
      expect(shallow.checks.find((c) => c.name === `sha256 ${INVOICE_KEYS_NAME}`)?.problem).toMatch(
        /checksum mismatch/,
      );
      const again = await verifyBackup(t.repo, manifest, { deep: true, identities });
      expect(again.checks.find((c) => c.name === `decrypt ${INVOICE_KEYS_NAME}`)?.ok).toBe(false);
    } finally {
      await writeFile(file, original);
    }
  });

  it('a reconcile section naming a table that does not exist costs the index, not the backup', async () => {
    const doc = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
    const text = JSON.stringify({
      ...doc,
      reconcile: { local: { target: 'invoices', table: 'public.nope' }, upstream: { type: 'file', path: 'x.csv' } },
    });
    const config = parseConfig(text, process.env, t.configFile);
    const backup = await runBackup({ config, repo: t.repo, logger }, config.targets[0]!);
    expect(backup.objects.map((o) => o.name).sort()).toEqual(['details.json.age', 'dump.zst.age']);
  });
});
