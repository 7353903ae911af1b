// `evidence`: one zip an auditor can keep for a period: the reconciliation reports written in it,
// the findings ledger with every acknowledgement, the drill reports, the backup manifests (with
// their signatures), `status` at the time, and index.json (sha256 and size of every file) signed
// with the configured Ed25519 key. Streamed: files go into the zip one at a time, hashed on the way.
// Deterministic: fixed entry order, one fixed time and mode on every entry, so the same inputs
// (and the same `now`) give the same bytes.
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import archiver from 'archiver';
import type pg from 'pg';
import type { Config } from '../core/config/config.js';
import { OperationError, UsageError, messageOf } from '../core/errors.js';
import { backupIdTime } from '../core/run-id.js';
import { MANIFEST_NAME } from '../core/repository/manifest.js';
import type { Repository } from '../core/repository/repository.js';
import { listFindings } from '../reconcile/findings/findings-store.js';
import { addDays, wallToInstant } from '../core/zoned-time.js';
import { MANIFEST_SIGNATURE_NAME } from '../core/signing/manifest-signature.js';
import { keyIdOf, signatureText } from '../core/signing/signing-keys.js';
import { collectStatus } from '../daemon/status/status.js';
import { TOOL_VERSION } from '../core/version.js';
import { findingsCsv } from './findings-ledger.js';
import {
  INDEX_NAME,
  INDEX_SIGNATURE_NAME,
  PACK_FORMAT,
  type PackFile,
  type PackIndex,
  unsafeEntryName,
} from './pack-index.js';

/** Every entry's time: the earliest a zip can say (entry times would otherwise differ per build). */
export const ENTRY_DATE = new Date(Date.UTC(1980, 0, 1));
const ENTRY_MODE = 0o644;
const REPORT_FILE = /^reconcile-(\d{8}T\d{6}Z-[0-9a-f]{4})\.(json|csv|html)$/;

export interface EvidenceOptions {
  config: Config;
  repo: Repository;
  db: pg.Client;
  /** calendar days in config.timezone, inclusive */
  from: string;
  to: string;
  out: string;
  /** where reconcile wrote its reports (reconcile.reportDir, or --report-dir) */
  reportDir: string;
  signingKey: KeyObject;
  /** the pack's time (status at it, generatedAt); fixed in tests for byte-identical packs */
  now?: Date;
}

export interface EvidenceResult {
  file: string;
  bytes: number;
  index: PackIndex;
}

type Source = { name: string; bytes: Buffer } | { name: string; open: () => Promise<Readable> };

/** The instants a period of calendar days covers: [start, end). */
export function periodInstants(from: string, to: string, timeZone: string): { start: Date; end: Date } {
  const midnight = (day: string): Date => {
    const [year, month, d] = day.split('-').map(Number) as [number, number, number];
    return wallToInstant({ year, month, day: d, hour: 0, minute: 0, second: 0 }, timeZone);
  };
  return { start: midnight(from), end: midnight(addDays(to, 1)) };
}

export async function buildEvidencePack(options: EvidenceOptions): Promise<EvidenceResult> {
  const { config } = options;
  const now = options.now ?? new Date();
  const pack = new PackContents(options, periodInstants(options.from, options.to, config.timezone));
  await pack.addReconcileReports();
  await pack.addFindings();
  await pack.addDrillReports();
  await pack.addManifests();
  await pack.addStatus(now);
  pack.checkEntryNames();
  return writePack(
    options.out,
    pack.sources,
    (files) => ({
      format: PACK_FORMAT,
      period: { from: options.from, to: options.to, timezone: config.timezone },
      generatedAt: now.toISOString(),
      tool: { name: 'fapiao-guard', version: TOOL_VERSION },
      keyId: keyIdOf(options.signingKey),
      files,
      notes: pack.notes,
    }),
    options.signingKey,
  );
}

/** What goes into a pack, in entry order, and the notes about what is missing; one method per part. */
class PackContents {
  readonly notes: string[] = [];
  readonly sources: Source[] = [];

  constructor(
    private readonly options: EvidenceOptions,
    private readonly period: { start: Date; end: Date },
  ) {}

  #inPeriod(at: Date | undefined): boolean {
    return at !== undefined && at >= this.period.start && at < this.period.end;
  }

  /** 1. reconciliation reports written in the period (by their run's start time) */
  async addReconcileReports(): Promise<void> {
    const { reportDir, db } = this.options;
    const reportFiles = await readdir(reportDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw new OperationError(`cannot read the report folder '${reportDir}': ${err.code ?? messageOf(err)}`);
    });
    const reportRuns = new Set<string>();
    for (const file of reportFiles.filter((f) => REPORT_FILE.test(f)).sort()) {
      const run = REPORT_FILE.exec(file)![1]!;
      if (!this.#inPeriod(backupIdTime(run))) continue;
      reportRuns.add(run);
      const full = path.join(reportDir, file);
      this.sources.push({ name: `reconcile/${file}`, open: async () => createReadStream(full) });
    }
    const runs = await db.query<{ id: string }>(
      `select id from fapiao_guard.reconcile_runs where started_at >= $1 and started_at < $2 order by id`,
      [this.period.start, this.period.end],
    );
    const absent = runs.rows.filter((r) => !reportRuns.has(r.id)).map((r) => r.id);
    if (absent.length > 0)
      this.notes.push(
        `${absent.length} reconcile run(s) of the period have no report in '${reportDir}' (written elsewhere with --report-dir, or removed): ${absent.slice(0, 20).join(', ')}${absent.length > 20 ? ', …' : ''}`,
      );
  }

  /**
   * 2. the findings ledger, every acknowledgement included: findings about invoices of the period's
   * days, and any finding a run saw during the period (what the period's reports list)
   */
  async addFindings(): Promise<void> {
    const findings = await listFindings(this.options.db, {
      from: this.options.from,
      to: this.options.to,
      seenWithin: { from: this.period.start.toISOString(), to: this.period.end.toISOString() },
      ackHistory: true,
    });
    this.sources.push({ name: 'findings/findings.json', bytes: Buffer.from(`${JSON.stringify(findings, null, 2)}\n`) });
    this.sources.push({ name: 'findings/findings.csv', bytes: Buffer.from(findingsCsv(findings)) });
  }

  /** 3. drill reports: the JSON the drill stored in the repository (else the state DB's copy) and its HTML */
  async addDrillReports(): Promise<void> {
    const drills = await this.options.db.query<DrillRow>(
      `select drill_id, target, report_object, html_report, report from fapiao_guard.drills
      where started_at >= $1 and started_at < $2 and status <> 'running' order by started_at, drill_id`,
      [this.period.start, this.period.end],
    );
    for (const d of drills.rows) {
      const base = `drills/${d.target}/${d.drill_id}`;
      if (unsafeEntryName(base)) {
        this.notes.push(`drill '${d.drill_id}' of '${d.target}' left out: its name cannot be a pack entry`);
        continue;
      }
      await this.#addDrillReport(d, base);
    }
  }

  async #addDrillReport(d: DrillRow, base: string): Promise<void> {
    const { repo } = this.options;
    const object = d.report_object;
    if (object && (await repo.storage.stat(object)))
      this.sources.push({ name: `${base}.json`, open: () => repo.storage.load(object) });
    else if (d.report) {
      this.sources.push({ name: `${base}.json`, bytes: Buffer.from(`${JSON.stringify(d.report, null, 2)}\n`) });
      this.notes.push(
        `drill ${d.drill_id}: report taken from the state database (${object ? `'${object}' is gone from the repository` : 'none was stored in the repository'})`,
      );
    }
    const html = d.html_report;
    if (
      html &&
      (await stat(html).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      this.sources.push({ name: `${base}.html`, open: async () => createReadStream(html) });
  }

  /** 4. manifests of the backups started in the period, with their signatures where present */
  async addManifests(): Promise<void> {
    const { repo } = this.options;
    for (const b of await repo.listBackups(undefined, { manifests: 'none' })) {
      if (b.status !== 'complete' || !this.#inPeriod(backupIdTime(b.id))) continue;
      for (const name of [MANIFEST_NAME, MANIFEST_SIGNATURE_NAME]) {
        if (!b.objects.some((o) => o.name === name)) continue;
        const object = repo.objectPath(b.target, b.id, name);
        this.sources.push({ name: `backups/${b.target}/${b.id}/${name}`, open: () => repo.storage.load(object) });
      }
    }
  }

  /** 5. status at the time of the pack */
  async addStatus(now: Date): Promise<void> {
    const { config, repo, db } = this.options;
    const { jobRuns: _raw, ...status } = await collectStatus(config, repo, db, now);
    this.sources.push({ name: 'status.json', bytes: Buffer.from(`${JSON.stringify(status, null, 2)}\n`) });
  }

  checkEntryNames(): void {
    for (const s of this.sources) {
      const problem = unsafeEntryName(s.name);
      if (problem) throw new OperationError(`evidence entry '${s.name}' has ${problem}`);
    }
  }
}

interface DrillRow {
  drill_id: string;
  target: string;
  report_object: string | null;
  html_report: string | null;
  report: unknown;
}

/** Stream every source into the zip (hashing it on the way), then index.json and its signature. */
async function writePack(
  out: string,
  sources: readonly Source[],
  makeIndex: (files: PackFile[]) => PackIndex,
  key: KeyObject,
): Promise<EvidenceResult> {
  if (
    await stat(out).then(
      () => true,
      () => false,
    )
  )
    throw new UsageError(`'${out}' exists; refusing to overwrite an evidence pack`, { hint: 'choose another --out' });
  const partial = `${out}.partial`;
  const output = createWriteStream(partial, { flags: 'wx', mode: 0o644 });
  const zip = archiver('zip', { zlib: { level: 6 }, forceLocalTime: false });
  let failure: unknown;
  zip.on('error', (err) => (failure ??= err));
  zip.on('warning', (err) => (failure ??= err));
  zip.pipe(output);
  const entry = { date: ENTRY_DATE, mode: ENTRY_MODE };
  try {
    const files: PackFile[] = [];
    for (const source of sources) {
      const hash = createHash('sha256');
      let size = 0;
      if ('bytes' in source) {
        hash.update(source.bytes);
        size = source.bytes.length;
        zip.append(source.bytes, { name: source.name, ...entry });
      } else {
        const input = await source.open();
        const tap = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        input.on('error', (err) => tap.destroy(err));
        input.pipe(tap);
        zip.append(tap, { name: source.name, ...entry });
        await finished(tap, { readable: true, writable: true }); // one file open at a time
      }
      if (failure) throw failure;
      files.push({ name: source.name, sha256: hash.digest('hex'), size });
    }
    const index = makeIndex(files);
    const indexText = `${JSON.stringify(index, null, 2)}\n`;
    zip.append(indexText, { name: INDEX_NAME, ...entry });
    zip.append(signatureText(indexText, key), { name: INDEX_SIGNATURE_NAME, ...entry });
    await Promise.all([zip.finalize(), finished(output)]);
    if (failure) throw failure;
    await rename(partial, out);
    return { file: out, bytes: zip.pointer(), index };
  } catch (err) {
    zip.abort();
    output.destroy();
    await rm(partial, { force: true });
    throw err instanceof UsageError || err instanceof OperationError
      ? err
      : new OperationError(`could not write the evidence pack '${out}': ${messageOf(err)}`, { cause: err });
  }
}
