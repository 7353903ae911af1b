// Copy one complete backup between repositories with the backup's own commit protocol: every
// object the manifest lists (whatever it is: dump, details, key index, per-table files) is read
// from the source with its sha256 checked against the manifest, written to the destination, and
// read back there and checked again; then the signature, then manifest.json, last and byte for
// byte (so a signed manifest still verifies). An object already in the destination with the right
// size and sha256 is not written again: an interrupted copy resumes where it stopped.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import type { KeyObject } from 'node:crypto';
import { IntegrityError, InterruptedError, OperationError, isFgError, messageOf } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { DigestStream, VerifyingStream } from '../../core/pipeline/digest.js';
import { MANIFEST_NAME, type Manifest, type ManifestObject, parseManifest } from '../../core/repository/manifest.js';
import type { Repository } from '../../core/repository/repository.js';
import { MANIFEST_SIGNATURE_NAME, checkManifestSignature } from '../../core/signing/manifest-signature.js';
import { type RateLimiter, ThrottleStream } from './rate-limit.js';

export interface CopyEnds {
  from: { name: string; repo: Repository };
  to: { name: string; repo: Repository };
}

export interface CopyBackupOptions {
  logger: Logger;
  signal?: AbortSignal;
  limiter?: RateLimiter;
  /** the manifest signature is checked in the source before anything is copied */
  verifyKey?: KeyObject;
  /** called after each object is complete in the destination (tests, progress) */
  onObject?: (name: string, outcome: 'copied' | 'present') => void;
}

export interface CopiedBackup {
  id: string;
  target: string;
  /** objects written (bytes moved), and those already complete in the destination */
  copied: number;
  present: number;
  bytes: number;
  seconds: number;
}

export async function copyBackup(
  ends: CopyEnds,
  target: string,
  id: string,
  options: CopyBackupOptions,
): Promise<CopiedBackup> {
  const { from, to } = ends;
  const started = Date.now();
  const what = `copy of backup '${target}/${id}' from '${from.name}' to '${to.name}'`;
  const log = options.logger.child({ target, backup: id, from: from.name, to: to.name });
  const result: CopiedBackup = { id, target, copied: 0, present: 0, bytes: 0, seconds: 0 };
  const signal = options.signal;
  let current = '';
  try {
    const { manifest, raw } = await readSourceManifest(from.repo, target, id);
    const signature = await sourceSignature(from.repo, manifest, options.verifyKey);
    for (const object of manifest.objects) {
      throwIfAborted(signal);
      current = object.name;
      const outcome = await copyObject(ends, manifest, object, options);
      if (outcome === 'copied') {
        result.copied++;
        result.bytes += object.size;
      } else result.present++;
      log.debug({ object: object.name, outcome }, 'object complete in the destination');
      options.onObject?.(object.name, outcome);
    }
    // the signature before the manifest, as a backup writes them: manifest.json stays the commit marker
    if (signature) {
      current = MANIFEST_SIGNATURE_NAME;
      await saveExact(to.repo, to.repo.objectPath(target, id, MANIFEST_SIGNATURE_NAME), signature, signal);
    }
    throwIfAborted(signal);
    current = MANIFEST_NAME;
    await saveExact(to.repo, to.repo.objectPath(target, id, MANIFEST_NAME), raw, signal);
    result.seconds = (Date.now() - started) / 1000;
    const { copied, present, bytes, seconds } = result;
    log.info({ copied, present, bytes, seconds }, 'backup copied');
    return result;
  } catch (err) {
    throw copyFailure(err, what, current, signal, `verify ${id} --target ${target} --repository ${from.name}`);
  }
}

/** One line saying which backup, which object and why; nothing was committed in the destination. */
function copyFailure(err: unknown, what: string, current: string, signal: AbortSignal | undefined, verify: string) {
  const at = current ? ` at '${current}'` : '';
  if (signal?.aborted) {
    const why = messageOf(signal.reason);
    return new InterruptedError(`${what} interrupted${at}: ${why}; no manifest written there, re-run to resume`, {
      cause: err,
    });
  }
  const message = `${what} failed${at}: ${messageOf(err)}; no manifest written there`;
  if (err instanceof IntegrityError) {
    return new IntegrityError(message, { cause: err, hint: `check the source with 'fapiao-guard ${verify}'` });
  }
  if (isFgError(err) && !(err instanceof OperationError)) return err;
  return new OperationError(message, {
    cause: err,
    hint: "re-run 'fapiao-guard copy' to resume: complete objects are not copied again",
  });
}

type SourceManifest = { manifest: Manifest; raw: Buffer };

async function readSourceManifest(repo: Repository, target: string, id: string): Promise<SourceManifest> {
  const path = repo.objectPath(target, id, MANIFEST_NAME);
  const raw = await buffer(await repo.storage.load(path));
  const manifest = parseManifest(raw.toString('utf8'), path);
  if (manifest.id !== id || manifest.target !== target) {
    const named = `${manifest.target}/${manifest.id}`;
    throw new IntegrityError(`manifest '${path}' names backup '${named}'; the folder was moved or renamed`);
  }
  return { manifest, raw };
}

/** The source's manifest.json.sig, if it has one; with a verify key it must check, or nothing is copied. */
async function sourceSignature(repo: Repository, manifest: Manifest, key?: KeyObject): Promise<Buffer | undefined> {
  if (key) {
    const check = await checkManifestSignature(repo, manifest, key);
    if (check && !check.ok) {
      throw new IntegrityError(check.problem ?? `manifest of '${manifest.target}/${manifest.id}' fails its signature`);
    }
  }
  const path = repo.objectPath(manifest.target, manifest.id, MANIFEST_SIGNATURE_NAME);
  if (!(await repo.storage.stat(path))) return undefined;
  return buffer(await repo.storage.load(path));
}

async function copyObject(
  ends: CopyEnds,
  manifest: Manifest,
  object: ManifestObject,
  options: CopyBackupOptions,
): Promise<'copied' | 'present'> {
  const { from, to } = ends;
  const source = from.repo.objectPath(manifest.target, manifest.id, object.name);
  const dest = to.repo.objectPath(manifest.target, manifest.id, object.name);
  const existing = await to.repo.storage.stat(dest);
  const complete = existing?.size === object.size && (await storedDigest(to.repo, dest, options)) === object.sha256;
  if (complete) return 'present';
  const signal = options.signal;
  const withSignal = signal ? { signal } : {};
  const body = await from.repo.storage.load(source, withSignal);
  // the source's bytes are checked as they pass: a damaged object fails the save, nothing is left under its name
  const checked = new VerifyingStream(object, `${source}' in '${from.repo.storage.location}`);
  const throttle = new ThrottleStream(options.limiter, signal);
  const stream = body.pipe(checked).pipe(throttle);
  body.once('error', (err) => checked.destroy(err));
  checked.once('error', (err) => throttle.destroy(err));
  try {
    await to.repo.storage.save(dest, stream, { sizeHint: object.size, ...withSignal });
  } finally {
    body.destroy(); // a failed save leaves the source read open otherwise
  }
  // and read back where they landed: what the destination holds is what the manifest says
  const got = await storedDigest(to.repo, dest, options);
  if (got !== object.sha256) {
    const where = `'${dest}' in '${to.repo.storage.location}'`;
    const expected = object.sha256.slice(0, 16);
    const actual = got.slice(0, 16);
    throw new IntegrityError(`checksum mismatch for ${where} after the copy: expected ${expected}…, got ${actual}…`);
  }
  return 'copied';
}

async function storedDigest(repo: Repository, path: string, options: CopyBackupOptions): Promise<string> {
  const digest = new DigestStream();
  const withSignal = options.signal ? { signal: options.signal } : {};
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const stored = await repo.storage.load(path, withSignal);
  await pipeline(stored, new ThrottleStream(options.limiter, options.signal), digest, sink, withSignal);
  return digest.result().sha256;
}

/** Small files copied byte for byte and read back. */
async function saveExact(repo: Repository, path: string, bytes: Buffer, signal?: AbortSignal): Promise<void> {
  const withSignal = signal ? { signal } : {};
  await repo.storage.save(path, Readable.from([bytes]), { contentType: 'application/json', ...withSignal });
  const back = await buffer(await repo.storage.load(path, withSignal));
  if (!back.equals(bytes)) {
    throw new IntegrityError(`'${path}' in '${repo.storage.location}' reads back different from what was written`);
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}
