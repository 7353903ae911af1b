// The vocabulary of reconciliation: invoices as both sides see them, buckets and their digests,
// findings. Pure data; amounts are integer fen (safe integers), sums are bigint.

export const CANONICAL_STATUSES = ['valid', 'voided', 'red_flushed', 'partially_red_flushed', 'out_of_control', 'abnormal'] as const;
export type CanonicalStatus = (typeof CANONICAL_STATUSES)[number];

export const FINDING_KINDS = ['missing', 'extra', 'amount_mismatch', 'status_mismatch', 'date_mismatch', 'duplicate', 'invalid_input'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export type FindingCause = 'pending_sync' | 'probable_typo';
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

/** A bucket: a day (× partition), optionally narrowed to an hour and/or a key-hash prefix. */
export interface BucketRef {
  day: string;
  partition?: string;
  hour?: number;
  prefix?: string;
}

export interface Digest {
  bucket: BucketRef;
  count: number;
  sumFen: bigint;
  /** sum of 60-bit md5 slices of `key|totalFen|status`; null when the source gives none */
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

/** One interface for every side (DESIGN.md §5): digests, splits, listings, key look-ups. */
export interface InvoiceSource {
  readonly info: SourceInfo;
  /** digests for the window, per day × partition, and per hour where that is cheap */
  windowDigests(window: Window, partition: boolean): Promise<{ days: Digest[]; hours?: Digest[] }>;
  /** digests of the children of a bucket */
  splitDigests(bucket: BucketRef, level: SplitLevel): Promise<Digest[]>;
  /** every invoice in a bucket */
  list(bucket: BucketRef): Promise<Invoice[]>;
  /** rows with these keys on any day; undefined when the source cannot look keys up */
  lookup(keys: readonly string[]): Promise<Invoice[] | undefined>;
  /** rows that failed validation, and warnings */
  problems(): SourceProblems;
  close(): Promise<void>;
}
