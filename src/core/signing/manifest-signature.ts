// Signed manifests: with signing.keyFile configured, a backup stores `manifest.json.sig` (the
// Ed25519 signature of manifest.json's bytes) BEFORE manifest.json, so manifest.json stays the one
// commit marker and a complete backup never lacks its signature. `verify` checks it when a public
// key is configured: someone with write access to the bucket who edits a manifest (and recomputes
// the checksums in it) cannot make a signature for it.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { KeyObject } from 'node:crypto';
import type { Config } from '../config/config.js';
import { MANIFEST_NAME, type Manifest, manifestBytes } from '../repository/manifest.js';
import type { Repository } from '../repository/repository.js';
import { checkSignature, loadSigningKey, loadVerifyKey, signatureText } from './signing-keys.js';

export const MANIFEST_SIGNATURE_NAME = `${MANIFEST_NAME}.sig`;

/** Store the manifest's signature when a signing key is configured (call right before writeManifest). */
export async function signManifest(
  repo: Repository,
  manifest: Manifest,
  config: Config,
  key?: KeyObject,
): Promise<void> {
  const file = config.signing?.keyFile;
  if (!file && !key) return;
  const signingKey = key ?? (await loadSigningKey(file!));
  const name = repo.objectPath(manifest.target, manifest.id, MANIFEST_SIGNATURE_NAME);
  await repo.storage.save(name, Readable.from([Buffer.from(signatureText(manifestBytes(manifest), signingKey))]), {
    contentType: 'application/json',
  });
}

/** The public key manifests are checked with: signing.publicKeyFile, else the public half of signing.keyFile. */
export async function manifestVerifyKey(config: Config): Promise<KeyObject | undefined> {
  const file = config.signing?.publicKeyFile ?? config.signing?.keyFile;
  return file ? loadVerifyKey(file) : undefined;
}

export interface SignatureVerifyCheck {
  name: string;
  ok: boolean;
  actual?: string;
  problem?: string;
}

/** The `signature manifest.json` check of `verify`; undefined when no key is configured (nothing expected). */
export async function checkManifestSignature(
  repo: Repository,
  manifest: Manifest,
  key: KeyObject | undefined,
): Promise<SignatureVerifyCheck | undefined> {
  if (!key) return undefined;
  const manifestPath = repo.objectPath(manifest.target, manifest.id, MANIFEST_NAME);
  const sigPath = repo.objectPath(manifest.target, manifest.id, MANIFEST_SIGNATURE_NAME);
  const name = `signature ${MANIFEST_NAME}`;
  if (!(await repo.storage.stat(sigPath))) {
    return {
      name,
      ok: false,
      problem: `'${sigPath}' is missing: manifest '${manifestPath}' is unsigned though a signing key is configured (removed, or written before signing was set up)`,
    };
  }
  const sig = (await buffer(await repo.storage.load(sigPath))).toString('utf8');
  const raw = await buffer(await repo.storage.load(manifestPath));
  const result = checkSignature(raw, sig, key);
  return result.ok
    ? { name, ok: true, actual: `key ${result.keyId}` }
    : { name, ok: false, problem: `manifest '${manifestPath}' fails its signature: ${result.problem}` };
}

/** A verify report with the signature check added (first, so a forged manifest is named before its objects). */
export function withSignatureCheck<C extends { name: string; ok: boolean }, R extends { ok: boolean; checks: C[] }>(
  report: R,
  check: (C & SignatureVerifyCheck) | SignatureVerifyCheck | undefined,
): R {
  if (!check) return report;
  return { ...report, ok: report.ok && check.ok, checks: [check as C, ...report.checks] };
}
