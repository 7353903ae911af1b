// AWS SDK errors turned into our taxonomy: missing → NotFoundError, the rest → one-line StorageError
// naming the object and the (masked) location, permanent when retrying cannot help.
import { oneLine } from '../errors.js';
import { notFound, StorageError } from './storage-errors.js';

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);
const CREDENTIALS = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : { message: String(err) };
}

export function isS3NotFound(err: unknown): boolean {
  const e = shape(err);
  return (
    NOT_FOUND.has(e.name ?? '') ||
    (e.$metadata?.httpStatusCode === 404 && e.name !== 'NoSuchBucket' && e.name !== 'NoSuchUpload')
  );
}

/** `cannot save 'backups/x/dump.age' in s3://bucket/prefix: InternalError (http 500) after 3 attempts: …` */
export function s3Error(err: unknown, verb: string, name: string, location: string): Error {
  if (verb !== 'save' && verb !== 'list' && isS3NotFound(err)) return notFound(name, location, err);
  const e = shape(err);
  const status = e.$metadata?.httpStatusCode;
  const code = e.code ?? e.name ?? 'Error';
  const attempts = e.$metadata?.attempts ?? 1;
  const detail = [
    code,
    status === undefined ? '' : ` (http ${status})`,
    attempts > 1 ? ` after ${attempts} attempts` : '',
    e.message && e.message !== code ? `: ${e.message}` : '',
  ].join('');
  let hint: string | undefined;
  let permanent = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
  if (e.name === 'NoSuchBucket') hint = 'create the bucket or correct the repository url';
  else if (CREDENTIALS.has(e.name ?? '') || status === 403) {
    hint = 'check the AWS credentials (environment, profile or instance role) and the bucket policy';
    permanent = true;
  } else if (NETWORK.has(e.code ?? '') || e.name === 'TimeoutError') {
    hint = 'is the S3 endpoint reachable from this host?';
    permanent = false;
  } else if (status !== undefined && status >= 500) hint = 'the S3 service failed; try again later';
  const message = oneLine(`cannot ${verb} '${name}' in ${location}: ${detail}`);
  return new StorageError(message, hint === undefined ? { cause: err, permanent } : { cause: err, permanent, hint });
}
