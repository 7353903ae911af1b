// invoice-keys.age: the reconciled table's canonical invoice keys, taken in the backup's snapshot,
// so reconcile can tell when a missing invoice was lost. Written and read here; streamed both ways.
import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import type { Config, TargetConfig } from '../core/config/config.js';
import type { Identity, Recipient } from '../core/crypto/index.js';
import type { Logger } from '../core/logger.js';
import { PG_CLIENT_HINT, ZSTD_HINT, outputAfterExit, pipeInto, startTool } from '../core/pipeline/child-process.js';
import type { Manifest, ManifestObject } from '../core/repository/manifest.js';
import { openDecrypted } from '../core/repository/read-encrypted.js';
import type { Repository } from '../core/repository/repository.js';
import { keyExportSql } from '../reconcile/sources/pg-sql.js';
import { localTableTarget } from '../reconcile/reconcile-config.js';
import type { Storage } from '../core/storage/storage.js';
import { zstdInputBytes } from './dump-pipeline.js';
import { saveEncrypted } from './encrypted-object.js';

export const INVOICE_KEYS_NAME = 'invoice-keys.age';
/** sorted keys, one a line, then zstd, then age */
export const INVOICE_KEYS_LAYERS = ['keys:text', 'zstd'];

/** The table whose keys this target's backups carry: the reconcile section's local table, when it is this target's. */
export function keyIndexTable(
  config: Config,
  target: TargetConfig,
): { table: string; columns: { code?: string; number: string } } | undefined {
  const rc = config.reconcile;
  if (!rc) return undefined;
  const local = localTableTarget(
    rc,
    config.targets.map((t) => t.name),
  );
  return local?.target === target.name ? { table: local.table, columns: rc.local.columns } : undefined;
}

export interface KeyExportOptions {
  storage: Storage;
  path: string;
  recipients: readonly Recipient[];
  signal: AbortSignal;
  logger: Logger;
  /** the backup's exported snapshot, joined by the psql that streams the keys */
  snapshot: string;
  /** libpq invocation of the target (password in env, not argv) */
  dbnameArg: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Stream the keys of `side.table`, as of the backup's snapshot, through zstd and age into storage.
 * `psql … COPY (…) TO STDOUT` writes straight into zstd through an OS pipe, so the keys never
 * pass through this process (flat memory whatever the table size). A reconcile section naming a
 * table or column that does not exist must not cost a backup: the query is first checked with
 * EXPLAIN in `client`'s snapshot transaction, and such an error (SQLSTATE class 42) skips the index
 * with a warning. Anything later fails the backup.
 */
export async function exportInvoiceKeys(
  client: pg.Client,
  side: NonNullable<ReturnType<typeof keyIndexTable>>,
  options: KeyExportOptions,
): Promise<ManifestObject | undefined> {
  const sql = keyExportSql(side);
  await client.query('savepoint fg_invoice_keys');
  try {
    await client.query(`explain ${sql}`);
    await client.query('release savepoint fg_invoice_keys');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('42')) throw err;
    await client.query('rollback to savepoint fg_invoice_keys');
    options.logger.warn(
      { table: side.table, err: (err as Error).message },
      `no ${INVOICE_KEYS_NAME} in this backup: the reconcile.local table cannot be read; fix reconcile.local`,
    );
    return undefined;
  }
  const psql = startTool(
    'psql',
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      'begin isolation level repeatable read, read only',
      '-c',
      `set transaction snapshot '${options.snapshot}'`,
      '-c',
      `copy (${sql}) to stdout`,
      '-c',
      'commit',
      options.dbnameArg,
    ],
    { env: options.env, signal: options.signal, label: 'psql (invoice keys)', installHint: PG_CLIENT_HINT },
  );
  const zstd = startTool('zstd', ['-vv', '-1', '-c', '-'], {
    stdinFrom: psql.child.stdout!,
    signal: options.signal,
    label: 'zstd (invoice keys)',
    installHint: ZSTD_HINT,
  });
  psql.child.stdout!.destroy(); // our copy of the read end: zstd has its own
  // the object ends only once psql and zstd both exited 0: a short feed never looks complete
  const saved = await saveEncrypted(
    options.storage,
    options.path,
    INVOICE_KEYS_NAME,
    INVOICE_KEYS_LAYERS,
    outputAfterExit(zstd, [psql]),
    options.recipients,
    options.signal,
  );
  const plainSize = zstdInputBytes(zstd.stderrTail());
  const { plainSize: _compressed, ...object } = saved;
  return plainSize === undefined ? object : { ...object, plainSize };
}

/**
 * Read a backup's key index, calling `visit` with each key in order until it returns false.
 * Returns true when the whole object was read, its size and sha256 matched the manifest and every
 * age chunk authenticated; an early stop still only ever saw authenticated chunks.
 */
export async function scanInvoiceKeys(
  repo: Repository,
  manifest: Manifest,
  object: ManifestObject,
  identities: readonly Identity[],
  visit: (key: string) => boolean,
  signal?: AbortSignal,
): Promise<boolean> {
  const path = repo.objectPath(manifest.target, manifest.id, object.name);
  const source = await openDecrypted(repo.storage, path, object, identities, signal ? { signal } : {});
  const zstd = startTool('zstd', ['-d', '-q', '-c', '-'], {
    stdin: 'pipe',
    label: `zstd -d of '${path}'`,
    installHint: ZSTD_HINT,
    ...(signal ? { signal } : {}),
  });
  const out = outputAfterExit(zstd);
  const fed = pipeInto(source, zstd);
  let feedError: unknown;
  fed.catch((err: unknown) => (feedError = err)); // awaited below unless we stop early
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let finished = false;
  try {
    for await (const chunk of out) {
      const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (!visit(line)) return false;
    }
    rest += decoder.end();
    if (rest !== '') visit(rest);
    await fed; // the integrity verdict: size, sha256 and the last age chunk
    finished = true;
    return true;
  } catch (err) {
    // a failed check upstream (sha256, age) is the cause; zstd then only saw its input end early
    throw feedError ?? err;
  } finally {
    // stopped early or failed: nothing more to read, so nobody may keep writing
    if (!finished) {
      zstd.kill();
      source.destroy();
    }
  }
}
