// The vocabulary of reconciliation: invoices as both sides see them, buckets and their digests,
// findings. Pure data; amounts are integer fen (safe integers), sums are bigint.

export const CANONICAL_STATUSES = [
  'valid',
  'voided',
  'red_flushed',
  'partially_red_flushed',
  'out_of_control',
  'abnormal',
] as const;
export type CanonicalStatus = (typeof CANONICAL_STATUSES)[number];

export const FINDING_KINDS = [
  'missing',
  'extra',
  'amount_mismatch',
  'tax_mismatch',
  'party_mismatch',
  'status_mismatch',
  'date_mismatch',
  'time_mismatch',
  'duplicate',
  'duplicate_line',
  'red_letter',
  'red_letter_unpaired',
  'invalid_input',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
/** pending_sync: issued within the sync lag; probable_typo: a missing and an extra one edit apart; in_backup: a missing invoice a backup still holds (lost locally after it) */
export type FindingCause = 'pending_sync' | 'probable_typo' | 'in_backup';
/**
 * Informational by default (not here, but usable in failOn): time_mismatch (systems often store a
 * receipt time a few seconds off), red_letter (a red-letter invoice paired with the one it offsets).
 */
export const DEFAULT_FAIL_ON: readonly FindingKind[] = [
  'missing',
  'extra',
  'amount_mismatch',
  'tax_mismatch',
  'party_mismatch',
  'status_mismatch',
  'date_mismatch',
  'duplicate',
  'duplicate_line',
  'red_letter_unpaired',
];

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
  /** 税率 in basis points (13% → 1300); MIXED_RATE when an invoice's lines have different rates */
  rateBp?: number;
  totalFen: number;
  /** a canonical status, or `unmapped:<raw>` when the status map has no entry */
  status: string;
  sellerTaxId?: string;
  buyerTaxId?: string;
  /** where the row came from (`exports/a.xlsx:17`), for evidence */
  origin?: string;
  /** a red-letter invoice: the key of the blue invoice it offsets, as the export references it */
  originalKey?: string;
  /** line-item exports: lines identical to an earlier line of the same invoice (counted in the totals) */
  duplicateLines?: DuplicateLine[];
}

/** Invoice.rateBp of an invoice whose lines have different rates */
export const MIXED_RATE = -1;

/** The fields compared besides key, day, total and status, when both sides read them (detail-fields.ts). */
export const DETAIL_FIELDS = ['amount', 'tax', 'rate', 'sellerTaxId', 'buyerTaxId', 'issueTime'] as const;
export type DetailField = (typeof DETAIL_FIELDS)[number];

/** A line of a line-item export that repeats an earlier line of its invoice cell for cell. */
export interface DuplicateLine {
  /** the first line and its repeat: `exports/a.xlsx:17`, `exports/a.xlsx:18` */
  origins: [string, string];
  totalFen: number;
  amountFen?: number;
  taxFen?: number;
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
  amountFen?: number;
  taxFen?: number;
  rateBp?: number;
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
  digests(
    window: Window,
    partition: boolean,
    method: HashMethod,
    fields?: readonly DetailField[],
  ): Promise<Digest[] | undefined>;
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
  windowDigests(
    window: Window,
    partition: boolean,
    method?: HashMethod,
    fields?: readonly DetailField[],
  ): Promise<{ days: Digest[]; hours?: Digest[] }>;
  /** digests of the children of a bucket */
  splitDigests(
    bucket: BucketRef,
    level: SplitLevel,
    method?: HashMethod,
    fields?: readonly DetailField[],
  ): Promise<Digest[]>;
  /** present when the source can digest by minute slot in one pass (PostgreSQL with a time column) */
  readonly slots?: SlotSource;
  /** every invoice in a bucket */
  list(bucket: BucketRef): Promise<Invoice[]>;
  /** the detail fields (detail-fields.ts) this source reads and can digest; absent: none */
  readonly fields?: readonly DetailField[];
  /** every row, when the source holds them in memory (a file): red-letter pairing searches them */
  rows?(): Invoice[];
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
  /** 税率: numeric, a fraction (0.13) or a percentage (13) */
  rate?: string;
}
