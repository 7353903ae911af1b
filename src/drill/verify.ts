// `verify`: every stored object's size and sha256 against the manifest, with no key;
// `--deep` also decrypts, lists the archive with pg_restore, reads the details and the key index
// (a parallel backup file by file: verify-folder.ts).
import { pushAll } from '../core/arrays.js';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { fingerprint, type Identity } from '../core/crypto/index.js';
import { INVOICE_KEYS_NAME, scanInvoiceKeys } from '../backup/invoice-keys.js';
import { assertBound } from '../backup/backup-identity.js';
import { IntegrityError, OperationError, isFgError, messageOf } from '../core/errors.js';
import { PG_CLIENT_HINT, feedTool, startTool } from '../core/pipeline/child-process.js';
import { DigestStream } from '../core/pipeline/digest.js';
import type { Manifest, ManifestObject } from '../core/repository/manifest.js';
import { openDecrypted } from '../core/repository/read-encrypted.js';
import type { Repository } from '../core/repository/repository.js';
import { openDumpArchive } from './restore/dump-source.js';
import { loadDetails } from './restore/checks-alongside.js';
import { isDirectoryBackup } from '../backup/directory-objects.js';
import { readWholeFolder } from './verify-folder.js';

export interface VerifyCheck {
  name: string;
  ok: boolean;
  expected?: string | number;
  actual?: string | number;
  problem?: string;
}

export interface VerifyReport {
  backupId: string;
  target: string;
  deep: boolean;
  ok: boolean;
  checks: VerifyCheck[];
}

export async function verifyBackup(
  repo: Repository,
  manifest: Manifest,
  options: { deep: boolean; identities?: readonly Identity[]; signal?: AbortSignal },
): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  for (const object of manifest.objects) pushAll(checks, await verifyObject(repo, manifest, object, options.signal));
  if (options.deep && options.identities) {
    const identities = options.identities;
    requireMatchingIdentity(manifest, identities);
    checks.push(
      isDirectoryBackup(manifest)
        ? await attempt('decrypt every file of the dump + pg_restore list of toc.dat', () =>
            readWholeFolder(repo, manifest, identities, options.signal),
          )
        : await attempt('decrypt + pg_restore read of the dump', () =>
            readWholeArchive(repo, manifest, identities, options.signal),
          ),
    );
    checks.push(
      await attempt('decrypt details', async () => {
        const details = await loadDetails(repo, manifest, identities);
        if (details.tables.length !== manifest.tables)
          throw new IntegrityError(`details list ${details.tables.length} tables, manifest says ${manifest.tables}`);
        return `${details.tables.length} tables, ${details.tables.reduce((s, t) => s + (t.partitioned ? 0 : t.rows), 0)} rows`; // a partitioned table's rows are its partitions'
      }),
    );
    checks.push(
      await attempt('backup identity (details ↔ manifest)', async () => {
        assertBound(await loadDetails(repo, manifest, identities), manifest);
        return `id, target, database, snapshot, start time and ${manifest.objects.length - 1} object checksums match`;
      }),
    );
    for (const object of manifest.objects.filter(
      (o) => o.name !== 'details.json.age' && !o.layers[0]?.startsWith('pg_dump:'),
    )) {
      const read = object.name === INVOICE_KEYS_NAME ? readKeyIndex : decryptToNowhere;
      checks.push(await attempt(`decrypt ${object.name}`, () => read(repo, manifest, object, identities)));
    }
  }
  return { backupId: manifest.id, target: manifest.target, deep: options.deep, ok: checks.every((c) => c.ok), checks };
}

async function verifyObject(
  repo: Repository,
  manifest: Manifest,
  object: ManifestObject,
  signal?: AbortSignal,
): Promise<VerifyCheck[]> {
  const path = repo.objectPath(manifest.target, manifest.id, object.name);
  const stat = await repo.storage.stat(path);
  if (!stat)
    return [{ name: `size ${object.name}`, ok: false, expected: object.size, problem: `'${path}' is missing` }];
  const sizeCheck: VerifyCheck = {
    name: `size ${object.name}`,
    ok: stat.size === object.size,
    expected: object.size,
    actual: stat.size,
  };
  if (!sizeCheck.ok)
    sizeCheck.problem = `size mismatch for '${path}': expected ${object.size} bytes, got ${stat.size}${stat.size < object.size ? ' (truncated)' : ''}`;
  const digest = new DigestStream();
  await pipeline(
    await repo.storage.load(path, signal ? { signal } : {}),
    digest,
    new Writable({ write: (_c, _e, cb) => cb() }),
  );
  const { sha256 } = digest.result();
  const hashCheck: VerifyCheck = {
    name: `sha256 ${object.name}`,
    ok: sha256 === object.sha256,
    expected: object.sha256,
    actual: sha256,
  };
  if (!hashCheck.ok)
    hashCheck.problem = `checksum mismatch for '${path}': expected ${object.sha256.slice(0, 16)}…, got ${sha256.slice(0, 16)}…`;
  return [sizeCheck, hashCheck];
}

/**
 * Decrypt the dump and have pg_restore read every entry of it (writing the SQL nowhere).
 * `pg_restore --list` alone reads only the table of contents and stops early.
 */
async function readWholeArchive(
  repo: Repository,
  manifest: Manifest,
  identities: readonly Identity[],
  signal?: AbortSignal,
): Promise<string> {
  let bytes = 0;
  const archive = await openDumpArchive({ repo, manifest, identities, ...(signal ? { signal } : {}) });
  archive.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const reader = startTool('pg_restore', ['--file=/dev/null'], {
    stdin: 'pipe',
    label: 'pg_restore (full read)',
    installHint: PG_CLIENT_HINT,
    ...(signal ? { signal } : {}),
  });
  await feedTool(archive, reader);
  const dumpObject = manifest.objects.find((o) => o.layers[0] === 'pg_dump:custom');
  if (dumpObject?.plainSize !== undefined && bytes !== dumpObject.plainSize)
    throw new IntegrityError(`archive is ${bytes} bytes, the manifest recorded ${dumpObject.plainSize}`);
  return `${bytes} archive bytes read by pg_restore`;
}

async function decryptToNowhere(
  repo: Repository,
  manifest: Manifest,
  object: ManifestObject,
  identities: readonly Identity[],
): Promise<string> {
  const path = repo.objectPath(manifest.target, manifest.id, object.name);
  let bytes = 0;
  await pipeline(
    await openDecrypted(repo.storage, path, object, identities),
    new Writable({
      write: (chunk: Buffer, _e, cb) => {
        bytes += chunk.length;
        cb();
      },
    }),
  );
  return `${bytes} bytes`;
}

/** The key index decrypted and decompressed: every line read, in the order reconcile relies on. */
async function readKeyIndex(
  repo: Repository,
  manifest: Manifest,
  object: ManifestObject,
  identities: readonly Identity[],
): Promise<string> {
  let keys = 0;
  let previous: string | undefined;
  let unsorted = 0;
  await scanInvoiceKeys(repo, manifest, object, identities, (key) => {
    keys += 1;
    if (previous !== undefined && Buffer.compare(Buffer.from(previous), Buffer.from(key)) > 0) unsorted += 1;
    previous = key;
    return true;
  });
  if (unsorted > 0) throw new IntegrityError(`${unsorted} of ${keys} keys out of byte order`);
  return `${keys} invoice keys, sorted`;
}

/**
 * The wrong key is the operator's problem, not the backup's: "no identity matched" (exit 3) before
 * anything is decrypted, never a verification failure that says the backup cannot be relied on.
 */
function requireMatchingIdentity(manifest: Manifest, identities: readonly Identity[]): void {
  if (identities.some((i) => i.type !== 'x25519')) return; // a passphrase: only decrypting can tell
  const ours = identities.map((i) => (i.type === 'x25519' ? fingerprint(i.recipient) : ''));
  if (ours.some((f) => manifest.recipients.includes(f))) return;
  throw new OperationError(
    `no identity matched recipient(s) ${manifest.recipients.join(', ')} of backup '${manifest.target}/${manifest.id}'`,
    {
      hint: `the identity file holds the key(s) of ${ours.join(', ') || 'no recipient'}; use the identity (--identity or encryption.identityFile) whose public key encrypted this backup`,
    },
  );
}

async function attempt(name: string, fn: () => Promise<string>): Promise<VerifyCheck> {
  try {
    return { name, ok: true, actual: await fn() };
  } catch (err) {
    if (/^no identity matched/.test(messageOf(err))) throw err; // the key, not the backup
    return { name, ok: false, problem: isFgError(err) ? err.message : messageOf(err) };
  }
}
