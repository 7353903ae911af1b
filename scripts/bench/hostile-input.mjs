// Measurement: peak RSS, time and exit code of `reconcile` fed hostile upstream files (a 2.2 MB
// zip bomb .xlsx, a 100 MB one-line CSV, an xlsx whose size field lies), each in its own process
// under /usr/bin/time -v. Point it at another checkout's CLI to compare before and after.
// Usage: npm run build && node scripts/bench/hostile-input.mjs [--bin /path/to/bin/fapiao-guard.js]
//        env FAPIAO_GUARD_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';
import pg from 'pg';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const BIN = flag('--bin', fileURLToPath(new URL('../../bin/fapiao-guard.js', import.meta.url)));
const SERVER = process.env.FAPIAO_GUARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `fg_bench_hostile_${process.pid}`;
const dbUrl = (name) => {
  const u = new URL(SERVER);
  u.pathname = `/${name}`;
  return u.toString();
};

function zip(entries) {
  const parts = [];
  const dir = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(8, 8);
    h.writeUInt32LE(e.crc, 14);
    h.writeUInt32LE(e.stored.length, 18);
    h.writeUInt32LE(e.size, 22);
    h.writeUInt16LE(name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(e.crc, 16);
    c.writeUInt32LE(e.stored.length, 20);
    c.writeUInt32LE(e.size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    parts.push(h, name, e.stored);
    dir.push(c, name);
    offset += 30 + name.length + e.stored.length;
  }
  const d = Buffer.concat(dir);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(d.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, d, end]);
}
const small = (name, text) => {
  const b = Buffer.from(text);
  return { name, stored: deflateRawSync(b), crc: crc32(b) >>> 0, size: b.length };
};
async function bombSheet(bytes, declared) {
  const head = Buffer.from('<worksheet><sheetData><!--');
  const tail = Buffer.from('--></sheetData></worksheet>');
  const chunk = Buffer.alloc(1 << 20, 0x20);
  const z = createDeflateRaw({ level: 9 });
  const out = [];
  z.on('data', (b) => out.push(b));
  let crc = crc32(head);
  z.write(head);
  for (let left = bytes - head.length - tail.length; left > 0; left -= chunk.length) {
    const p = left >= chunk.length ? chunk : chunk.subarray(0, left);
    crc = crc32(p, crc);
    if (!z.write(p)) await once(z, 'drain');
  }
  crc = crc32(tail, crc);
  z.end(tail);
  await once(z, 'end');
  return { name: 'xl/worksheets/sheet1.xml', stored: Buffer.concat(out), crc: crc >>> 0, size: declared ?? bytes };
}
const workbook = (sheet) =>
  zip([
    small(
      'xl/workbook.xml',
      '<workbook xmlns:r="r"><sheets><sheet name="信息汇总表" sheetId="1" r:id="rId1"/></sheets></workbook>',
    ),
    small(
      'xl/_rels/workbook.xml.rels',
      '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>',
    ),
    sheet,
  ]);

const dir = await mkdtemp(path.join(tmpdir(), 'fg-hostile-'));
const admin = new pg.Client({ connectionString: SERVER });
await admin.connect();
await admin.query(`create database ${DB}`);
try {
  const c = new pg.Client({ connectionString: dbUrl(DB) });
  await c.connect();
  await c.query(
    `create table invoices (invoice_code text, invoice_number text not null, issued_at timestamptz not null, total_amount numeric(18,2) not null, status text not null, seller_tax_id text, buyer_tax_id text, amount numeric(18,2), tax_amount numeric(18,2))`,
  );
  await c.end();
  const bomb = await bombSheet(2300 * 2 ** 20);
  await writeFile(path.join(dir, 'bomb.xlsx'), workbook(bomb));
  await writeFile(path.join(dir, 'liar.xlsx'), workbook({ ...bomb, size: 1000 }));
  const csv = createWriteStream(path.join(dir, 'oneline.csv'));
  csv.write('发票号码,开票日期,价税合计\n');
  const a = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < 100; i++) if (!csv.write(a)) await once(csv, 'drain');
  csv.end('\n');
  await once(csv, 'close');
  for (const file of ['bomb.xlsx', 'liar.xlsx', 'oneline.csv']) {
    const config = path.join(dir, `${file}.yaml`);
    await writeFile(
      config,
      JSON.stringify({
        timezone: 'Asia/Shanghai',
        repository: { url: pathToFileURL(path.join(dir, 'repo')).href },
        encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'] },
        targets: [{ name: 'invoices', url: dbUrl(DB) }],
        state: { url: dbUrl(DB) },
        reconcile: { reportDir: path.join(dir, 'reports'), upstream: { type: 'file', path: `./${file}` } },
      }),
    );
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, 'reconcile', '--config', config], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
    const wall = /Elapsed \(wall clock\) time.*: (.+)/.exec(r.stderr)?.[1];
    const exit = Number(/Exit status: (\d+)/.exec(r.stderr)?.[1] ?? NaN);
    const message = r.stderr.split('\n').find((l) => l.startsWith('fapiao-guard:')) ?? '';
    console.log(
      `${file.padEnd(12)} exit ${exit}  peak RSS ${(rss / 1024).toFixed(0)} MB  wall ${wall}  ${message.slice(0, 220)}`,
    );
  }
} finally {
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
