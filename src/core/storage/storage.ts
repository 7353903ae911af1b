// The one storage seam: five data operations, like restic's backend interface.
// Implementations: file-storage.ts (file://) and s3-storage.ts (s3://); wrappers stack on top.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  /** path relative to the repository root, '/'-separated, e.g. `backups/invoices/<id>/dump.age` */
  name: string;
  /** stored size in bytes */
  size: number;
  /**
   * S3 Object Lock retention the server reports for the object (the version written, for save);
   * absent where there is none or the backend has no such thing
   */
  retention?: ObjectRetention;
}

export interface ObjectRetention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** ISO time until which the version cannot be deleted */
  retainUntil: string;
  /** the object version the retention is on */
  versionId?: string;
  /** how it got there: with the write itself, or afterwards with PutObjectRetention (the server dropped it) */
  appliedBy?: 'write' | 'put-retention';
}

export interface SaveOptions {
  /** abort the upload: nothing is left visible under `name` */
  signal?: AbortSignal;
  /** known size in bytes, lets a backend pick its part size */
  sizeHint?: number;
  /** content type for backends that store one */
  contentType?: string;
}

export interface LoadOptions {
  signal?: AbortSignal;
}

export interface Storage {
  /** where this is, secrets masked: safe for logs and errors */
  readonly location: string;
  /**
   * Store the whole stream under `name`. The object becomes visible only once complete
   * (file: temp name + fsync + rename; S3: multipart completed). On failure or abort nothing
   * new is visible under `name` and the error says what and where.
   */
  save(name: string, body: Readable, options?: SaveOptions): Promise<ObjectInfo>;
  /** Open the object for reading. Throws NotFoundError when it does not exist. */
  load(name: string, options?: LoadOptions): Promise<Readable>;
  /** Size of the object, or undefined when it does not exist. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  /** Every object whose name starts with `prefix`, in lexical order of name. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Remove the object; removing a missing object is not an error. */
  remove(name: string): Promise<void>;
}
