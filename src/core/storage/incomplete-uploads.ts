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
    if (
      typeof candidate.listIncompleteUploads === 'function' &&
      typeof candidate.abortIncompleteUpload === 'function'
    ) {
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

/**
 * What a killed writer leaves behind outside any object: file:// temp files (`.<name>.tmp-<hex>`,
 * hidden from `list`) and empty folders. `prune` feature-detects this like incomplete uploads.
 */
export interface Leftover {
  /** path relative to the repository root */
  name: string;
  kind: 'temp file' | 'empty folder';
  size: number;
  modified: Date;
}

export interface Leftovers {
  listLeftovers(prefix: string): Promise<Leftover[]>;
  removeLeftover(leftover: Pick<Leftover, 'name' | 'kind'>): Promise<void>;
}

export function leftoversOf(storage: Storage): Leftovers | undefined {
  for (let s: Storage | undefined = storage; s; s = (s as Partial<StorageWrapper>).inner) {
    const candidate = s as Partial<Leftovers>;
    if (typeof candidate.listLeftovers === 'function' && typeof candidate.removeLeftover === 'function')
      return candidate as Leftovers;
  }
  return undefined;
}
