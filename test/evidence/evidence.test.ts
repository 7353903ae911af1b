// Evidence packs and signed manifests as an operator and an auditor use them (needs `npm run
// build`): real PostgreSQL, a real file:// repository, a real backup, drill and reconcile run;
// the pack verified, then damaged byte by byte, and hostile zips refused.
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { sampleDataStatements } from '../../src/demo/sample-data.js';
import { buildEvidencePack } from '../../src/evidence/build-pack.js';
import { dataOffset, openEntry, readCentralDirectory } from '../../src/evidence/zip-reader.js';
import { verifyEvidencePack } from '../../src/evidence/verify-pack.js';
import { generateTaxExport } from '../../src/demo/tax-export.js';
import { today } from '../../src/core/zoned-time.js';
import { loadSigningKey, loadVerifyKey } from '../../src/core/signing/signing-keys.js';
import { withStateDb } from '../../src/core/state/state-db.js';
import { addDays } from '../../src/core/zoned-time.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase } from '../helpers/pg.js';
import { type TestRepo, createTestRepo } from '../helpers/repo.js';
import { storedZip } from '../security/hostile-files.js';

let local: TestDatabase;
let state: TestDatabase;
let t: TestRepo;
let keys: string;
let pack: string;
const quiet = { env: { FAPIAO_GUARD_LOG_LEVEL: 'warn' } };
const cli = (args: string[]) => runCli([...args, '--config', t.configFile], { ...quiet, cwd: t.dir });
const day = today(new Date(), 'Asia/Shanghai');
const period = ['--from', addDays(day, -1), '--to', addDays(day, 1)];

/** A copy of the pack with one byte of entry `name` flipped (in its stored, compressed bytes). */
async function flipped(name: string): Promise<string> {
  const entry = (await readCentralDirectory(pack)).find((e) => e.name === name)!;
  const at = (await dataOffset(pack, entry)) + Math.floor(entry.compressedSize / 2);
  const bytes = await readFile(pack);
  bytes[at] = bytes[at]! ^ 0x01;
  const copy = path.join(keys, `flipped-${name.replace(/\W/g, '_')}.zip`);
  await writeFile(copy, bytes);
  return copy;
}

beforeAll(async () => {
  [local, state] = await Promise.all([createDatabase('ev_local'), createDatabase('ev_state')]);
  const client = new pg.Client({ connectionString: local.url });
  await client.connect();
  for (const sql of sampleDataStatements({
    invoices: 600,
    days: 10,
    endAt: new Date(Date.now() - 86_400_000).toISOString(),
  }))
    await client.query(sql);
  await client.end();
  keys = await mkdtemp(path.join(tmpdir(), 'fgt-keys-'));
  const keygen = await runCli(['keygen', '--signing', '--out', path.join(keys, 'signing.key')], quiet);
  expect(keygen.code).toBe(0);
  t = await createTestRepo({
    targets: [{ name: 'invoices', url: local.url }],
    extra: {
      state: { url: state.url },
      drill: { reportDir: 'drill-reports' },
      reconcile: { upstream: { type: 'file', path: 'exports/*.csv' }, window: { days: 12 }, reportDir: 'reports' },
      signing: { keyFile: path.join(keys, 'signing.key'), publicKeyFile: path.join(keys, 'signing.key.pub') },
    },
  });
  await mkdir(path.join(t.dir, 'exports'));
  await generateTaxExport({
    sourceUrl: local.url,
    out: path.join(t.dir, 'exports', 'a.csv'),
    timezone: 'Asia/Shanghai',
    plant: { missing: 1, pending: 0, extra: 1, amount: 0, status: 0, typo: 0, duplicate: 0, invalid: 0 },
  });
  expect((await cli(['backup'])).code).toBe(0);
  const drill = await cli(['drill']);
  expect(drill.stderr).toBe('');
  expect(drill.code).toBe(0);
  expect((await cli(['reconcile'])).code).toBe(1);
  const [finding] = JSON.parse((await cli(['findings', '--open', '--json'])).stdout);
  expect((await cli(['findings', 'ack', finding.id, '--reason', 'booked in December', '--by', 'li.wei'])).code).toBe(0);
  expect((await cli(['reconcile'])).code).toBe(1); // one left: a failing run is evidence too
  pack = path.join(keys, 'pack.zip');
  const res = await cli(['evidence', ...period, '--out', pack]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/^evidence pack written to .*pack\.zip: \d+ file\(s\), .*, signed by key [0-9a-f]{16}/);
}, 600_000);

afterAll(async () => {
  await Promise.all([local?.drop(), state?.drop()]);
  await t?.cleanup();
  if (keys) await rm(keys, { recursive: true, force: true });
});

describe('keygen --signing', () => {
  it('writes the private key 0600 and the public key beside it, and refuses to overwrite', async () => {
    expect((await stat(path.join(keys, 'signing.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(keys, 'signing.key.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(await readFile(path.join(keys, 'signing.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const again = await runCli(['keygen', '--signing', '--out', path.join(keys, 'signing.key')], quiet);
    expect(again.code).toBe(2);
    expect(errorLine(again)).toMatch(/exists; refusing to overwrite a key/);
  });
});

describe('fapiao-guard evidence', () => {
  it(
    'holds the reports, the findings ledger with its acknowledgement, the drill, the signed manifest and status',
    { timeout: 300_000 },
    async () => {
      const names = (await readCentralDirectory(pack)).map((e) => e.name);
      expect(names.slice(-2)).toEqual(['index.json', 'index.json.sig']);
      expect(
        names.filter((n) => /^reconcile\/reconcile-\d{8}T\d{6}Z-[0-9a-f]{4}\.(json|csv|html)$/.test(n)),
      ).toHaveLength(6);
      expect(names).toEqual(expect.arrayContaining(['findings/findings.json', 'findings/findings.csv', 'status.json']));
      expect(names.filter((n) => /^drills\/invoices\/\d{8}T\d{6}Z-[0-9a-f]{4}\.(json|html)$/.test(n))).toHaveLength(2);
      expect(
        names.filter((n) => /^backups\/invoices\/\d{8}T\d{6}Z-[0-9a-f]{4}\/manifest\.json(\.sig)?$/.test(n)),
      ).toHaveLength(2);
      const read = async (name: string) =>
        (
          await buffer(
            await openEntry(
              pack,
              (await readCentralDirectory(pack)).find((e) => e.name === name)!,
            ),
          )
        ).toString('utf8');
      const ledger = JSON.parse(await read('findings/findings.json'));
      expect(ledger.filter((f: { acknowledgement?: { by: string; reason: string } }) => f.acknowledgement)).toEqual([
        expect.objectContaining({
          acknowledgement: { at: expect.any(String), by: 'li.wei', reason: 'booked in December' },
          acknowledgements: [expect.objectContaining({ by: 'li.wei', endedAt: null })],
        }),
      ]);
      expect(await read('findings/findings.csv')).toMatch(/,acknowledged,li\.wei,[^,]+,booked in December,/);
      expect(JSON.parse(await read('status.json')).findings).toMatchObject({ acknowledged: 1 });
      const index = JSON.parse(await read('index.json'));
      expect(index).toMatchObject({
        format: 'fapiao-guard/evidence/v1',
        period: { timezone: 'Asia/Shanghai' },
        notes: [],
      });
      expect(index.files.map((f: { name: string }) => f.name)).toEqual(names.slice(0, -2));
      const res = await runCli(['evidence', 'verify', pack, '--key', path.join(keys, 'signing.key.pub')], quiet);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^intact: \d+ file\(s\) match index\.json, signed by key [0-9a-f]{16}; period /);
      // the ledger, through the same verified bytes
      const json = JSON.parse(
        (await runCli(['evidence', 'verify', pack, '--key', path.join(keys, 'signing.key.pub'), '--json'], quiet))
          .stdout,
      );
      expect(json).toMatchObject({ ok: true, problems: [] });
    },
  );

  it(
    'one flipped byte in a file, or in the signature, is exit 1 naming it; another key is refused',
    { timeout: 300_000 },
    async () => {
      const pub = path.join(keys, 'signing.key.pub');
      for (const name of ['status.json', 'index.json.sig']) {
        const res = await runCli(['evidence', 'verify', await flipped(name), '--key', pub], quiet);
        expect(res.code, name).toBe(1);
        expect(errorLine(res)).toContain(`fails verification: '${name}'`);
      }
      // the same check in-process for more entries (each CLI start costs seconds on a loaded machine)
      const key = await loadVerifyKey(pub);
      for (const name of [
        'findings/findings.csv',
        'reconcile/' +
          (await readCentralDirectory(pack))
            .find((e) => e.name.endsWith('.html') && e.name.startsWith('reconcile/'))!
            .name.slice('reconcile/'.length),
      ]) {
        const report = await verifyEvidencePack(await flipped(name), key);
        expect(report.ok).toBe(false);
        expect(report.problems.map((p) => p.name)).toEqual([name]);
      }
      const damagedIndex = await verifyEvidencePack(await flipped('index.json'), key);
      expect(damagedIndex.problems.map((p) => p.name)).toEqual(['index.json']);
      // an index.json changed cleanly (the zip rebuilt around it) no longer matches its signature
      const parts = await Promise.all(
        (await readCentralDirectory(pack)).map(async (e) => ({
          name: e.name,
          data: await buffer(await openEntry(pack, e)),
        })),
      );
      const index = parts.find((p) => p.name === 'index.json')!;
      index.data = Buffer.from(
        index.data.toString('utf8').replace(/"size": (\d+)/, (_m, n: string) => `"size": ${Number(n) + 1}`),
      );
      const rewritten = path.join(keys, 'rewritten-index.zip');
      await writeFile(rewritten, storedZip(parts));
      const changedIndex = await verifyEvidencePack(rewritten, key);
      expect(changedIndex.problems.map((p) => p.name).slice(0, 2)).toEqual(['index.json.sig', expect.any(String)]);
      expect(changedIndex.problems[0]!.problem).toBe('the signature does not match the signed bytes (altered)');
      const other = await runCli(['keygen', '--signing', '--out', path.join(keys, 'other.key')], quiet);
      expect(other.code).toBe(0);
      const wrongKey = await runCli(['evidence', 'verify', pack, '--key', path.join(keys, 'other.key.pub')], quiet);
      expect(wrongKey.code).toBe(1);
      expect(errorLine(wrongKey)).toMatch(/'index\.json\.sig' signed by key [0-9a-f]{16}, not by the given key/);
    },
  );

  it(
    'refuses hostile zips: ../, absolute and backslash names, an unlisted extra file',
    { timeout: 300_000 },
    async () => {
      const pub = path.join(keys, 'signing.key.pub');
      const file = path.join(keys, 'hostile.zip');
      await writeFile(
        file,
        storedZip([
          { name: '../x', data: 'x' },
          { name: 'index.json', data: '{}' },
        ]),
      );
      const res0 = await runCli(['evidence', 'verify', file, '--key', pub], quiet);
      expect(res0.code).toBe(1);
      expect(errorLine(res0)).toContain("'../x' unsafe entry name (a '..' segment");
      const key = await loadVerifyKey(pub);
      for (const [name, why] of [
        ['/etc/x', 'an absolute path'],
        ['a/../../x', "a '..' segment"],
        ['C:/x', 'an absolute path'],
        ['a\\..\\x', 'a backslash'],
        ['a//x', 'an empty or . segment'],
        ['./x', 'an empty or . segment'],
      ] as const) {
        const hostile = path.join(keys, `hostile-${name.replace(/\W/g, '_')}.zip`);
        await writeFile(
          hostile,
          storedZip([
            { name, data: 'x' },
            { name: 'index.json', data: '{}' },
          ]),
        );
        const report = await verifyEvidencePack(hostile, key);
        expect(report.ok, name).toBe(false);
        expect(report.problems[0]!.name).toBe(name);
        expect(report.problems[0]!.problem).toContain(why);
      }
      // a file slipped into a signed pack (the zip rebuilt around it) is named too
      const entries = await readCentralDirectory(pack);
      const parts = await Promise.all(
        entries.map(async (e) => ({ name: e.name, data: await buffer(await openEntry(pack, e)) })),
      );
      const added = path.join(keys, 'added.zip');
      await writeFile(added, storedZip([...parts, { name: 'reconcile/extra.txt', data: 'not signed' }]));
      const addedReport = await verifyEvidencePack(added, key);
      expect(addedReport.problems).toEqual([
        { name: 'reconcile/extra.txt', problem: 'not listed in index.json (added after signing)' },
      ]);
      // the rebuilt zip without the extra file is intact: the check is of contents, not of zip bytes
      const rebuilt = path.join(keys, 'rebuilt.zip');
      await writeFile(rebuilt, storedZip(parts));
      expect((await verifyEvidencePack(rebuilt, key)).ok).toBe(true);
      const notZip = path.join(keys, 'not.zip');
      await writeFile(notZip, 'hello');
      const res = await runCli(['evidence', 'verify', notZip, '--key', pub], quiet);
      expect(res.code).toBe(1);
      expect(errorLine(res)).toMatch(/not a zip file/);
    },
  );

  it('the same inputs give a byte-identical pack', { timeout: 300_000 }, async () => {
    const config = parseConfig(await readFile(t.configFile, 'utf8'), process.env, t.configFile);
    const signingKey = await loadSigningKey(config.signing!.keyFile!);
    const now = new Date();
    const build = (out: string) =>
      withStateDb(config, (db) =>
        buildEvidencePack({
          config,
          repo: t.repo,
          db,
          from: addDays(day, -1),
          to: addDays(day, 1),
          out,
          reportDir: path.join(t.dir, 'reports'),
          signingKey,
          now,
        }),
      );
    const [a, b] = [path.join(keys, 'a.zip'), path.join(keys, 'b.zip')];
    await build(a);
    await build(b);
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
    const again = await build(path.join(keys, 'a.zip')).catch((err: Error) => err);
    expect(String(again)).toMatch(/exists; refusing to overwrite/);
  });
});

describe('signed manifests', () => {
  it(
    'verify passes a signed manifest and fails an edited or unsigned one, naming it',
    { timeout: 300_000 },
    async () => {
      const ok = await cli(['verify']);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/signature manifest\.json\s+ok \(key [0-9a-f]{16}\)/);
      const repoDir = fileURLToPath(t.repoUrl);
      const [{ id }] = JSON.parse((await cli(['list', '--json'])).stdout);
      const folder = path.join(repoDir, 'backups', 'invoices', id);
      const manifestFile = path.join(folder, 'manifest.json');
      // the signature went first: manifest.json (the commit marker) is never newer-signed
      expect((await stat(path.join(folder, 'manifest.json.sig'))).mtimeMs).toBeLessThanOrEqual(
        (await stat(manifestFile)).mtimeMs,
      );
      const original = await readFile(manifestFile, 'utf8');
      await writeFile(
        manifestFile,
        original.replace(/"tables": (\d+)/, (_m, n: string) => `"tables": ${Number(n) + 1}`),
      );
      const edited = await cli(['verify']);
      expect(edited.code).toBe(1);
      expect(errorLine(edited)).toMatch(
        /^fapiao-guard: manifest '.*manifest\.json' fails its signature: the signature does not match the signed bytes \(altered\)/,
      );
      await writeFile(manifestFile, original);
      await copyFile(path.join(folder, 'manifest.json.sig'), path.join(keys, 'sig.bak'));
      await rm(path.join(folder, 'manifest.json.sig'));
      const unsigned = await cli(['verify']);
      expect(unsigned.code).toBe(1);
      expect(errorLine(unsigned)).toMatch(
        /manifest\.json\.sig' is missing: manifest '.*' is unsigned though a signing key is configured/,
      );
      await copyFile(path.join(keys, 'sig.bak'), path.join(folder, 'manifest.json.sig'));
      expect((await cli(['verify'])).code).toBe(0);
    },
  );
});
