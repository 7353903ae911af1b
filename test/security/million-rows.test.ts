// Item 7 of the hostile-input review: above ~130k rows `invoices.push(...valid)` and
// `diffs.push(...diffRows())` threw "Maximum call stack size exceeded" (exit 70). A million-row
// export is read, and a day with 200k differing rows is diffed, without spreading.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSources } from '../../src/reconcile/engine/engine.js';
import { parseUpstreamFiles } from '../../src/reconcile/sources/file-parse.js';
import { DEFAULT_INPUT_LIMITS } from '../../src/reconcile/sources/input-limits.js';
import { MemorySource } from '../../src/reconcile/sources/memory-source.js';
import type { Invoice } from '../../src/reconcile/model/types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fgt-million-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const number = (i: number): string => `2631200000${String(i).padStart(10, '0')}`;

describe('a million rows', () => {
  it('a 1,000,000-row CSV export is read whole', async () => {
    const file = path.join(dir, 'million.csv');
    const out = createWriteStream(file);
    out.write('数电发票号码,开票日期,价税合计,销方识别号\n');
    let chunk = '';
    for (let i = 0; i < 1_000_000; i++) {
      chunk += `${number(i)},2026-11-${String(1 + (i % 28)).padStart(2, '0')} 10:00:00,100.00,91310110666007217T\n`;
      if (chunk.length > 1 << 20) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'close');
    const result = parseUpstreamFiles(
      [file],
      { timezone: 'Asia/Shanghai', now: new Date('2026-11-30T00:00:00Z'), path: 'million.csv', baseDir: dir },
      DEFAULT_INPUT_LIMITS,
    );
    expect(result.errors).toEqual([]);
    expect(result.invoices).toHaveLength(1_000_000);
  }, 400_000);

  it('a day listed whole with 200,000 rows missing locally is diffed', async () => {
    const rows: Invoice[] = Array.from({ length: 200_000 }, (_, i) => ({
      key: number(i),
      number: number(i),
      day: '2026-11-05',
      hour: 10,
      issuedAt: '2026-11-05T02:00:00.000Z',
      totalFen: 10000,
      status: 'valid',
    }));
    const upstream = new MemorySource({ kind: 'memory', location: 'up' }, rows);
    const local = new MemorySource({ kind: 'memory', location: 'lo' }, []);
    const result = await compareSources(upstream, local, {
      window: { from: '2026-11-01', to: '2026-11-30', timezone: 'Asia/Shanghai' },
      partition: false,
      limits: { listLimit: 1_000_000, maxPrefix: 8 },
    });
    expect(result.diffs).toHaveLength(200_000);
  }, 120_000);
});
