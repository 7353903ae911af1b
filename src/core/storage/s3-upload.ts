// One multipart (or single PUT) upload that either completes or leaves nothing behind.
// lib-storage keeps feeding parts after one fails and does not await its own abort when
// cancelled, so we hand it a client whose part requests we can cancel and a source we can stop.
import {
  AbortMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { abortReason } from './storage-errors.js';
import { OperationError } from '../errors.js';

export interface UploadRequest {
  client: S3Client;
  /** Bucket, Key and the object's headers (SSE, storage class, Object Lock, content type) */
  params: Omit<PutObjectCommandInput, 'Body'> & { Bucket: string; Key: string };
  body: Readable;
  partSize: number;
  queueSize: number;
  signal?: AbortSignal;
}

export interface UploadOutcome {
  /** bytes read from the body and sent */
  bytes: number;
  /** the version the server created, on a versioned bucket (some servers leave it out) */
  versionId?: string;
}

export interface UploadFailure {
  /** why: the caller's abort reason, the input's error, or the first failed request */
  error: unknown;
  /** where it went wrong: the caller aborted, the input stream failed, or S3 did */
  cause: 'aborted' | 'input' | 's3';
  /** a multipart upload we could not abort: prune's listIncompleteUploads will find it */
  orphanUploadId?: string;
}

/** Caught by S3Storage.save, which maps `failure` to the error the caller sees (exit 3 unless aborted). */
export class UploadFailed extends OperationError {
  constructor(readonly failure: UploadFailure) {
    super('upload failed', { cause: failure.error });
  }
}

export async function uploadObject(request: UploadRequest): Promise<UploadOutcome> {
  const { client, params, body, signal } = request;
  signal?.throwIfAborted();
  const inflight = new AbortController();
  let bytes = 0;
  const source = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  let first: { error: unknown; input: boolean } | undefined;
  const stop = (error: unknown, input: boolean): void => {
    if (first) return;
    first = { error, input };
    inflight.abort(error);
    source.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const feed = pipeline(body, source).catch((err: unknown) => stop(err, true));
  const onAbort = (): void => stop(abortReason(signal!), false);
  signal?.addEventListener('abort', onAbort, { once: true });

  // Part and single-PUT requests carry our cancel signal; create, complete and abort do not, so
  // an upload id is always learnt and an abort is always sent.
  const tracked = Object.create(client) as S3Client;
  tracked.send = ((command: Parameters<S3Client['send']>[0], options?: { abortSignal?: AbortSignal }) => {
    const cancellable = command instanceof UploadPartCommand || command instanceof PutObjectCommand;
    const sent = client.send(command, cancellable ? { ...options, abortSignal: inflight.signal } : options);
    return sent.catch((err: unknown) => {
      if (cancellable) stop(err, false);
      throw err;
    });
  }) as S3Client['send'];

  const upload = new Upload({
    client: tracked,
    params: { ...params, Body: source },
    partSize: request.partSize,
    queueSize: request.queueSize,
    leavePartsOnError: false,
  });
  let versionId: string | undefined;
  try {
    versionId = (await upload.done()).VersionId || undefined;
    await feed;
  } catch (err) {
    stop(err, false);
    await feed;
    const orphan = upload.uploadId ? await abortUpload(client, params, upload.uploadId) : undefined;
    const { error, input } = first!;
    const failure: UploadFailure = signal?.aborted
      ? { error: abortReason(signal), cause: 'aborted' }
      : { error, cause: input ? 'input' : 's3' };
    throw new UploadFailed(orphan ? { ...failure, orphanUploadId: orphan } : failure);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  // An abort that arrives after CompleteMultipartUpload came back is too late: the object is whole.
  return versionId ? { bytes, versionId } : { bytes };
}

/**
 * Abort the multipart upload, again if lib-storage already did: S3 may keep a part that was in
 * flight during the first abort. Returns the upload id when the abort failed.
 */
async function abortUpload(
  client: S3Client,
  params: { Bucket: string; Key: string },
  uploadId: string,
): Promise<string | undefined> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId }));
    return undefined;
  } catch (err) {
    const name = (err as { name?: string }).name;
    return name === 'NoSuchUpload' ? undefined : uploadId;
  }
}
