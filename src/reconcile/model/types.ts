// The vocabulary of reconciliation: invoices as both sides see them, buckets and their digests,
// findings. Pure data; amounts are integer fen (safe integers), sums are bigint.

export const CANONICAL_STATUSES = ['valid', 'voided', 'red_flushed', 'partially_red_flushed', 'out_of_control', 'abnormal'] as const;
export type CanonicalStatus = (typeof CANONICAL_STATUSES)[number];

export const FINDING_KINDS = ['missing', 'extra', 'amount_mismatch', 'status_mismatch', 'date_mismatch', 'duplicate', 'invalid_input'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
/** pending_sync: issued within the sync lag; probable_typo: a missing and an extra one edit apart; in_backup: a missing invoice a backup still holds (lost locally after it) */
export type FindingCause = 'pending_sync' | 'probable_typo' | 'in_backup';
export const DEFAULT_FAIL_ON: readonly FindingKind[] = ['missing', 'extra', 'amount_mismatch', 'status_mismatch', 'date_mismatch', 'duplicate'];

/** One invoice as a source reports it, after mapping and validation. */
export interface Invoice {
  /** canonical key: the 20-digit 数电 number, else `code-number` */
  key: string;
  code?: string;
  number: string;
  /** calendar day in the configured zone, YYYY-MM-DD */
  day: string;
  /** hour 0-23 of the wall clock in the configured zone */
  hour: number;
  /** ISO instant (UTC) */
  issuedAt: string;
  partition?: string;
  amountFen?: number;
  taxFen?: number;
  totalFen: number;
  /** a canonical status, or `unmapped:<raw>` when the status map has no entry */
  status: string;
  sellerTaxId?: string;
  buyerTaxId?: string;
  /** where the row came from (`exports/a.xlsx:17`), for evidence */
  origin?: string;
}

/** A bucket: a day (× partition), optionally narrowed to an hour and/or a key-hash prefix, or to a minute of that hour (a slot). */
export interface BucketRef {
  day: string;
  partition?: string;
  hour?: number;
  prefix?: string;
  /** minute of the hour (wall clock in the zone): slot digests only */
  minute?: number;
}

/**
 * How rows are hashed into a digest. `md5`: sum of 60-bit md5 slices of `key|totalFen|status`,
 * computable in JS and SQL alike (and the HTTP contract's `hash`). `pg-hash`: a sum of chained
 * 64-bit `hashbpcharextended` values, about 8x cheaper per row, but only PostgreSQL computes it, so
 * it is used only when both sides are PostgreSQL.
 */
export type HashMethod = 'md5' | 'pg-hash';

export interface Digest {
  bucket: BucketRef;
  count: number;
  sumFen: bigint;
  /** sum of per-row hashes (see HashMethod; md5 unless both sides negotiated another); null when the source gives none */
  hash: bigint | null;
}

/** Calendar days in the configured zone, `to` inclusive. */
export interface Window {
  from: string;
  to: string;
  timezone: string;
}

export interface SourceInfo {
  kind: 'postgres' | 'file' | 'http' | 'memory';
  /** a table, query, file pattern or URL, with secrets masked */
  location: string;
  /** digests carry a content hash (false for an http upstream that sends none) */
  hashes?: boolean;
  files?: string[];
}

/** A row that failed validation (an invalid_input finding) or passed with a warning. */
export interface InputProblem {
  severity: 'error' | 'warning';
  /** file and line/row, or `http /invoices?day=…#index` */
  origin: string;
  reason: string;
  key?: string;
  day?: string;
  /** the row's cells as read, for evidence (truncated) */
  raw?: Record<string, string>;
}

export interface SourceProblems {
  errors: InputProblem[];
  warnings: InputProblem[];
}

export interface InvoiceView {
  key: string;
  issuedAt: string;
  day: string;
  totalFen: number;
  status: string;
  partition?: string;
  sellerTaxId?: string;
  buyerTaxId?: string;
  origin?: string;
  /** how many rows carry this key on that side (> 1: duplicate) */
  rows?: number;
}

export interface Finding {
  kind: FindingKind;
  key: string;
  cause?: FindingCause;
  /** which side a duplicate is on */
  side?: 'upstream' | 'local';
  day?: string;
  upstream?: InvoiceView;
  local?: InvoiceView;
  evidence: Record<string, unknown>;
}

export type SplitLevel = { by: 'hour' } | { by: 'prefix'; length: number };

/**
 * The one-pass alternative to windowDigests + splits, used when both sides offer it: one scan
 * digests every minute (wall clock in the zone) × partition; the engine compares hours, then the
 * minutes of differing hours, and lists just the differing minutes.
 */
export interface SlotSource {
  /** per hour × partition digests, bucket `{day, hour[, partition]}`; undefined when the zone's offsets are not whole minutes (the engine then drills down instead) */
  digests(window: Window, partition: boolean, method: HashMethod): Promise<Digest[] | undefined>;
  /** the minute digests (bucket gains `minute`) of an hour the last digests call returned */
  minutes(hour: BucketRef): Digest[];
  /** every invoice in these minutes (all partitions) */
  list(slots: readonly BucketRef[]): Promise<Invoice[]>;
}

/** One interface for every side (docs/ARCHITECTURE.md#upstream-api): digests, splits, listings, key look-ups. */
export interface InvoiceSource {
  readonly info: SourceInfo;
  /** hash methods this source can compute besides md5 (which every source computes) */
  readonly hashMethods?: readonly HashMethod[];
  /** digests for the window, per day × partition, and per hour where that is cheap */
  windowDigests(window: Window, partition: boolean, method?: HashMethod): Promise<{ days: Digest[]; hours?: Digest[] }>;
  /** digests of the children of a bucket */
  splitDigests(bucket: BucketRef, level: SplitLevel, method?: HashMethod): Promise<Digest[]>;
  /** present when the source can digest by minute slot in one pass (PostgreSQL with a time column) */
  readonly slots?: SlotSource;
  /** every invoice in a bucket */
  list(bucket: BucketRef): Promise<Invoice[]>;
  /** rows with these keys on any day; undefined when the source cannot look keys up */
  lookup(keys: readonly string[]): Promise<Invoice[] | undefined>;
  /** rows that failed validation, and warnings */
  problems(): SourceProblems;
  close(): Promise<void>;
}

/** The local table's columns for each invoice field (reconcile.local.columns). */
export interface PgColumns {
  code?: string;
  number: string;
  issuedAt: string;
  total: string;
  status: string;
  sellerTaxId?: string;
  buyerTaxId?: string;
  amount?: string;
  tax?: string;
}
