// Scratch databases of drills: named fg_drill_<target>_<drill-id>, marked with a JSON comment
// (COMMENT ON DATABASE) so that we only ever drop a database we created, and so that a later
// drill can recognise and drop what a crashed one left behind.
import { hostname } from 'node:os';
import type pg from 'pg';
import type { TargetConfig } from '../core/config/config.js';
import { OperationError, UsageError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { connect, quoteIdent, quoteLiteral, withClient, withDatabase } from '../core/pg/connect.js';
import { endpointOf, parsePgUrl } from '../core/pg/conninfo.js';
import type { Manifest } from '../core/repository/manifest.js';
import { isSourceOfBackup, readTargetFacts } from './restore/target-guard.js';
import { processAlive } from '../core/process-alive.js';
import { maskUrl } from '../core/storage/mask-url.js';

export const SCRATCH_PREFIX = 'fg_drill_';
const MARKER_TOOL = 'fapiao-guard drill';
const MAX_IDENTIFIER = 63;

export interface ScratchMarker {
  tool: typeof MARKER_TOOL;
  drillId: string;
  target: string;
  backupId: string;
  createdAt: string;
  host: string;
  pid: number;
  /** the repository of the drilling installation (masked): only its own leftovers are dropped */
  repository?: string;
  /** kept on purpose (--keep): never dropped as a leftover */
  kept: boolean;
}

/** `fg_drill_<target>_<drill-id>`, lowercase, `-` as `_`, at most 63 bytes (the target part is shortened). */
export function scratchDatabaseName(target: string, drillId: string): string {
  const id = drillId.toLowerCase().replace(/[^a-z0-9]/g, '_');
  const room = MAX_IDENTIFIER - SCRATCH_PREFIX.length - 1 - id.length;
  const name = target
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, Math.max(room, 1));
  return `${SCRATCH_PREFIX}${name}_${id}`;
}

/** The marker in a database comment, or undefined when the comment is not ours. */
export function parseMarker(comment: string | null | undefined): ScratchMarker | undefined {
  if (!comment) return undefined;
  try {
    const doc = JSON.parse(comment) as Partial<ScratchMarker>;
    if (
      doc.tool !== MARKER_TOOL ||
      typeof doc.drillId !== 'string' ||
      typeof doc.target !== 'string' ||
      typeof doc.createdAt !== 'string'
    )
      return undefined;
    return doc as ScratchMarker;
  } catch {
    return undefined;
  }
}

/** Ours: a valid marker whose drill id and target give exactly this name. */
export function isOurs(datname: string, marker: ScratchMarker | undefined): marker is ScratchMarker {
  return marker !== undefined && scratchDatabaseName(marker.target, marker.drillId) === datname;
}

/** The admin URL on the scratch server: drill.scratchUrl, or the target's server, database postgres. */
export function scratchAdminUrl(target: TargetConfig, scratchUrl?: string): string {
  return scratchUrl ?? withDatabase(target.url, 'postgres');
}

/**
 * Refuse a scratch URL that is the target's own database: the drill creates and drops databases
 * from there, and a scratch server must never be mistaken for production.
 */
export async function guardScratchServer(
  admin: pg.Client,
  adminUrl: string,
  target: TargetConfig,
  manifest: Manifest,
): Promise<void> {
  const facts = await readTargetFacts(admin);
  const source = await withClient(target.url, readTargetFacts).catch(() => undefined);
  if (isSourceOfBackup(manifest, facts, adminUrl, target.url, source) || sameDatabaseUrl(adminUrl, target.url)) {
    throw new UsageError(
      `refusing scratch URL '${maskUrl(adminUrl)}': it is the target's own database '${facts.database}'`,
      {
        hint: 'set drill.scratchUrl to a maintenance database on the scratch server, e.g. postgres://…/postgres',
      },
    );
  }
}

function sameDatabaseUrl(a: string, b: string): boolean {
  const x = parsePgUrl(a);
  const y = parsePgUrl(b);
  return endpointOf(x) === endpointOf(y) && x.database === y.database;
}

export interface ScratchDatabase {
  name: string;
  url: string;
  marker: ScratchMarker;
}

export async function createScratchDatabase(
  adminUrl: string,
  marker: Omit<ScratchMarker, 'tool' | 'host' | 'pid' | 'kept'>,
): Promise<ScratchDatabase> {
  const full: ScratchMarker = { tool: MARKER_TOOL, ...marker, host: hostname(), pid: process.pid, kept: false };
  const name = scratchDatabaseName(marker.target, marker.drillId);
  const admin = await connect(adminUrl, 'fapiao-guard drill');
  try {
    // template0: nothing added to template1 on this server may collide with the restored objects
    await admin.query(`create database ${quoteIdent(name)} template template0`);
    await admin.query(`comment on database ${quoteIdent(name)} is ${quoteLiteral(JSON.stringify(full))}`);
  } catch (err) {
    throw new OperationError(`cannot create scratch database '${name}' at '${maskUrl(adminUrl)}': ${messageOf(err)}`, {
      cause: err,
      hint: 'the role in drill.scratchUrl needs CREATEDB; or point drill.scratchUrl at another server',
    });
  } finally {
    await admin.end().catch(() => undefined);
  }
  return { name, url: withDatabase(adminUrl, name), marker: full };
}

/** Rewrite the marker as kept, so that leftover cleanup leaves the database alone. */
export async function markKept(adminUrl: string, scratch: ScratchDatabase): Promise<void> {
  const admin = await connect(adminUrl, 'fapiao-guard drill');
  try {
    await admin.query(
      `comment on database ${quoteIdent(scratch.name)} is ${quoteLiteral(JSON.stringify({ ...scratch.marker, kept: true }))}`,
    );
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * Drop the scratch database, but only when it still carries the marker of this drill.
 * Returns false when there was nothing of ours to drop.
 */
export async function dropScratchDatabase(adminUrl: string, name: string, drillId: string): Promise<boolean> {
  const admin = await connect(adminUrl, 'fapiao-guard drill cleanup');
  try {
    const { rows } = await admin.query<{ comment: string | null }>(
      'select shobj_description(oid, $2) as comment from pg_database where datname = $1',
      [name, 'pg_database'],
    );
    if (rows.length === 0) return false;
    const marker = parseMarker(rows[0]!.comment);
    if (!isOurs(name, marker) || marker.drillId !== drillId) {
      throw new OperationError(
        `scratch database '${name}' does not carry the marker of drill '${drillId}'; not dropping it`,
        { hint: 'someone changed its comment; check and drop it yourself' },
      );
    }
    await dropDatabase(admin, name);
    return true;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  try {
    await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
  } catch (err) {
    if (!/syntax error/.test(messageOf(err))) throw err;
    // before PostgreSQL 13: end the sessions ourselves
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    await admin.query(`drop database if exists ${quoteIdent(name)}`);
  }
}

export interface Leftover {
  name: string;
  marker: ScratchMarker;
  reason: 'older than the bound' | 'its process is gone';
}

/**
 * Pure: which marked databases are leftovers of this installation's crashed drills (its
 * repository's). Kept ones never are, nor those of another installation sharing the server.
 */
export function leftoversOf(
  databases: ReadonlyArray<{ name: string; comment: string | null }>,
  options: { now: Date; olderThanSeconds: number; host: string; isAlive: (pid: number) => boolean; repository: string },
): Leftover[] {
  const out: Leftover[] = [];
  for (const db of databases) {
    const marker = parseMarker(db.comment);
    if (!isOurs(db.name, marker) || marker.kept || marker.repository !== options.repository) continue;
    const age = (options.now.getTime() - Date.parse(marker.createdAt)) / 1000;
    if (age > options.olderThanSeconds) out.push({ name: db.name, marker, reason: 'older than the bound' });
    else if (marker.host === options.host && marker.pid !== process.pid && !options.isAlive(marker.pid))
      out.push({ name: db.name, marker, reason: 'its process is gone' });
  }
  return out;
}

/** Drop scratch databases left on this server by crashed drills of this repository; returns their names. */
export async function dropLeftovers(
  adminUrl: string,
  olderThanSeconds: number,
  repository: string,
  logger: Logger,
): Promise<string[]> {
  const admin = await connect(adminUrl, 'fapiao-guard drill cleanup');
  try {
    const { rows } = await admin.query<{ name: string; comment: string | null }>(
      `select datname as name, shobj_description(oid, 'pg_database') as comment from pg_database where datname like $1`,
      [`${SCRATCH_PREFIX.replace(/_/g, '\\_')}%`],
    );
    const leftovers = leftoversOf(rows, {
      now: new Date(),
      olderThanSeconds,
      host: hostname(),
      isAlive: processAlive,
      repository,
    });
    const dropped: string[] = [];
    for (const l of leftovers) {
      try {
        await dropDatabase(admin, l.name);
        dropped.push(l.name);
        logger.warn(
          { database: l.name, createdAt: l.marker.createdAt, host: l.marker.host, pid: l.marker.pid, reason: l.reason },
          'dropped a scratch database left by a crashed drill',
        );
      } catch (err) {
        logger.warn({ database: l.name, err: messageOf(err) }, 'could not drop a leftover scratch database');
      }
    }
    return dropped;
  } finally {
    await admin.end().catch(() => undefined);
  }
}
