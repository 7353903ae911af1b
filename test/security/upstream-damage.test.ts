// Item 5 of the hostile-input review: a damaged .xlsx (flipped bytes, a halved size field) is
// refused as damaged instead of being read as a smaller export, and a run whose upstream shrank
// beyond reconcile.limits.maxShrink resolves no finding and fails saying why.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, exitCodeOf } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { listFindings } from '../../src/reconcile/findings/findings-store.js';
import { runReconcile } from '../../src/reconcile/run-reconcile.js';
import { upstreamShrink } from '../../src/reconcile/findings/shrink-guard.js';
import { generateTaxExport } from '../../src/demo/tax-export.js';
import { readSheet } from '../../src/reconcile/sources/xlsx-reader.js';
import { writeXlsx } from '../../src/demo/xlsx-writer.js';
import { withStateDb } from '../../src/core/state/state-db.js';
import { errorLine, runCli } from '../helpers/cli.js';
import { type TestDatabase, createDatabase, createSampleDatabase } from '../helpers/pg.js';
import { type ReconcileFixture, TEST_NOW, reconcileFixture } from '../reconcile/helpers.js';

const logger = silentLogger();
let local: TestDatabase;
let state: TestDatabase;
let fx: ReconcileFixture;
let exportBytes: Buffer;
const exportPath = (name: string) => path.join(fx.dir, 'exports', name);

beforeAll(async () => {
  [local, state] = await Promise.all([createSampleDatabase('sec_damage', 1500), createDatabase('sec_damage_state')]);
  fx = await reconcileFixture({
    localUrl: local.url,
    stateUrl: state.url,
    reconcile: { upstream: { type: 'file', path: './exports/export.xlsx' } },
  });
  await mkdir(path.join(fx.dir, 'exports'));
  await generateTaxExport({
    sourceUrl: local.url,
    out: exportPath('export.xlsx'),
    timezone: 'Asia/Shanghai',
    now: TEST_NOW,
  });
  exportBytes = await readFile(exportPath('export.xlsx'));
});

afterAll(async () => {
  await Promise.all([local?.drop(), state?.drop()]);
  await fx?.cleanup();
});

/** Offset of the central directory record of the entry whose name ends with `suffix`. */
function centralRecord(zip: Buffer, suffix: string): number {
  for (let i = zip.length - 46; i >= 0; i--) {
    if (zip.readUInt32LE(i) !== 0x02014b50) continue;
    const name = zip.toString('utf8', i + 46, i + 46 + zip.readUInt16LE(i + 28));
    if (name.endsWith(suffix)) return i;
  }
  throw new Error(`no ${suffix} in the archive`);
}

async function expectDamaged(bytes: Buffer): Promise<void> {
  await writeFile(exportPath('export.xlsx'), bytes);
  const err = await runReconcile({ config: fx.config, logger, now: TEST_NOW, persist: false }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect(exitCodeOf(err)).toBe(2);
  expect((err as Error).message).toMatch(
    /^upstream file 'exports\/export\.xlsx' is damaged: entry 'xl\/worksheets\/sheet1\.xml' /,
  );
}

describe('a damaged .xlsx', () => {
  it('is refused, not read short, when 40 bytes of the sheet are flipped', async () => {
    const bad = Buffer.from(exportBytes);
    const sheet = bad.readUInt32LE(centralRecord(bad, 'sheet1.xml') + 42) + 30 + 'xl/worksheets/sheet1.xml'.length;
    for (let i = 0; i < 40; i++) bad[sheet + 2000 + i * 97]! ^= 0x5a;
    await expectDamaged(bad);
  });

  it('is refused when a size field is halved (fflate read the first half without a word)', async () => {
    const bad = Buffer.from(exportBytes);
    const at = centralRecord(bad, 'sheet1.xml') + 24;
    bad.writeUInt32LE(Math.floor(bad.readUInt32LE(at) / 2), at);
    await expectDamaged(bad);
  });

  it('is exit 2 with one line from the CLI', async () => {
    const bad = Buffer.from(exportBytes);
    const at = centralRecord(bad, 'sheet1.xml') + 16;
    bad.writeUInt32LE(bad.readUInt32LE(at) ^ 1, at); // the CRC alone
    await writeFile(exportPath('export.xlsx'), bad);
    const res = await runCli(['reconcile', '--config', fx.configFile]);
    expect(res.code).toBe(2);
    expect(errorLine(res)).toMatch(
      /is damaged: entry 'xl\/worksheets\/sheet1\.xml' fails its CRC-32 check \(hint: the file changed after the tax platform wrote it/,
    );
  });
});

describe('the shrink guard', () => {
  it('computes the shrink on the days both runs covered', () => {
    const window = { from: '2026-11-01', to: '2026-11-30' };
    const previous = { run: 'r1', days: { '2026-10-31': 1000, '2026-11-01': 100, '2026-11-02': 100 } };
    expect(upstreamShrink({ '2026-11-01': 100, '2026-11-02': 81 }, window, previous, 0.2)).toBeUndefined();
    expect(upstreamShrink({ '2026-11-01': 100 }, window, previous, 0.2)).toEqual({
      rows: 100,
      previousRows: 200,
      previousRun: 'r1',
      maxShrink: 0.2,
      days: 2,
    });
    expect(upstreamShrink({}, window, undefined, 0.2)).toBeUndefined();
  });

  it('keeps findings open and fails the run when the upstream lost rows since the last run', async () => {
    await writeFile(exportPath('export.xlsx'), exportBytes);
    const first = await runReconcile({ config: fx.config, logger, now: TEST_NOW });
    expect(first.report.summary.upstreamShrank).toBeUndefined();
    const open = await withStateDb(fx.config, (c) => listFindings(c, { open: true }));
    expect(open.length).toBeGreaterThan(5);

    // the same export with 40% of its rows: a partial download that is still a valid file
    const sheet = readSheet(exportBytes, '信息汇总表');
    const rows = sheet.rows.map((r) => r.cells.map((c) => c.text));
    await writeFile(
      exportPath('export.xlsx'),
      writeXlsx([{ name: '信息汇总表', rows: rows.slice(0, Math.floor(rows.length * 0.4)) }]),
    );
    const second = await runReconcile({ config: fx.config, logger, now: TEST_NOW });
    const s = second.report.summary;
    expect(second.ok).toBe(false);
    expect(s.resolvedSinceLastRun).toBe(0);
    expect(s.upstreamShrank?.message).toMatch(
      /^the upstream shrank by \d+% since run \S+ \(\d+ rows instead of \d+ on the \d+ day\(s\) both runs covered, more than reconcile\.limits\.maxShrink 0\.2\): no finding was resolved by this run$/,
    );
    expect(await readFile(second.files.html, 'utf8')).toContain(
      '<p class="bad"><b>上游数据减少，本次未将任何差异标为已解决。</b> the upstream shrank by',
    );
    const stillOpen = await withStateDb(fx.config, (c) => listFindings(c, { open: true }));
    for (const f of open) expect(stillOpen.map((o) => `${o.kind}|${o.key}`)).toContain(`${f.kind}|${f.key}`);

    // the full export again: it compares with the shrunken run (which recorded its rows), so it
    // does not trip, and it resolves normally
    await writeFile(exportPath('export.xlsx'), exportBytes);
    const third = await runReconcile({ config: fx.config, logger, now: TEST_NOW });
    expect(third.report.summary.upstreamShrank).toBeUndefined();
  }, 240_000);
});
