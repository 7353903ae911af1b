// Multipart uploads that never completed: only S3 has them. `prune` feature-detects this through
// any stack of wrappers with `incompleteUploadsOf`.
import type { Storage } from './storage.js';

export interface IncompleteUpload {
  /** object name relative to the repository root */
  name: string;
  uploadId: string;
  initiated?: Date;
}

export interface IncompleteUploads {
  listIncompleteUploads(prefix: string): AsyncIterable<IncompleteUpload>;
  abortIncompleteUpload(upload: { name: string; uploadId: string }): Promise<void>;
}

/** Wrappers expose the storage they wrap as `inner`. */
export interface StorageWrapper extends Storage {
  readonly inner: Storage;
}

export function incompleteUploadsOf(storage: Storage): IncompleteUploads | undefined {
  for (let s: Storage | undefined = storage; s; s = (s as Partial<StorageWrapper>).inner) {
    const candidate = s as Partial<IncompleteUploads>;
    if (typeof candidate.listIncompleteUploads === 'function' && typeof candidate.abortIncompleteUpload === 'function') {
      return candidate as IncompleteUploads;
    }
  }
  return undefined;
}

/** Backends that can say whether their bucket is set up as the configuration asks (S3: Object Lock, versioning). */
export interface BucketCheck {
  checkBucket(): Promise<string[]>;
}

export function bucketCheckOf(storage: Storage): BucketCheck | undefined {
  for (let s: Storage | undefined = storage; s; s = (s as Partial<StorageWrapper>).inner) {
    if (typeof (s as Partial<BucketCheck>).checkBucket === 'function') return s as unknown as BucketCheck;
  }
  return undefined;
}
