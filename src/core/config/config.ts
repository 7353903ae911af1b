// The configuration contract (README "Configuration"): types, defaults and validation rules.
// parseConfig is pure: text in, Config or every problem with its path out.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { pgUrlProblem } from '../pg/conninfo.js';
import { ConfigError } from '../errors.js';
import { parseQualifiedName } from '../pg/identifier.js';
import { interpolateEnv } from './interpolate.js';
import { Issues, Reader } from './reader.js';
import { type DrillConfig, readDrillConfig } from '../../drill/drill-config.js';
import { type ReconcileConfig, readReconcileConfig } from '../../reconcile/reconcile-config.js';
import { type OpsConfig, readOpsConfig } from '../../daemon/ops-config.js';
import { REPORT_LANGUAGES, type ReportLanguage, defaultLanguage } from '../report-language.js';

import { type RepositoryConfig, type S3Config, readRepositories } from './repository-config.js';
import { type RepositoryRetention, readRepositoryRetention } from '../../backup/repository-retention.js';

export type { RepositoryConfig, S3Config } from './repository-config.js';

export interface TargetConfig {
  name: string;
  /** libpq connection URL; PG* environment variables fill what it leaves out */
  url: string;
  /** tables whose content checksums go into every backup's details */
  verifyTables: string[];
  /** also store `pg_dumpall --globals-only --no-role-passwords` (roles, tablespaces) */
  globals: boolean;
  /** extra arguments for pg_dump, e.g. ["--exclude-table-data=audit_log"] */
  pgDumpArgs: string[];
  /** >1: dump with `pg_dump --format=directory --jobs=N`, one stored object per file (src/backup/directory-dump.ts) */
  jobs: number;
}

export interface Compression {
  kind: 'zstd' | 'pg_dump' | 'none';
  level: number;
}

export interface Config {
  timezone: string;
  /** where backups are written: the primary of `repositories` */
  repository: { url: string; s3: S3Config };
  /** every repository, the primary first (src/core/config/repository-config.ts) */
  repositories: RepositoryConfig[];
  /** repositories[].retention by repository name (src/backup/repository-retention.ts); others follow `retention` */
  repositoryRetention?: RepositoryRetention;
  encryption: { recipients: string[]; identityFile?: string };
  targets: TargetConfig[];
  backup: { compression: Compression };
  restore: { spoolDir?: string; jobs: number };
  /** state database (history, findings); default: database fapiao_guard on the first target's server */
  state?: { url?: string };
  /** restore drills (src/drill/drill-config.ts); defaults when the section is absent */
  drill?: DrillConfig;
  /** reconciliation of upstream invoices (src/reconcile/reconcile-config.ts); absent when not configured */
  reconcile?: ReconcileConfig;
  /** operations (src/daemon/ops-config.ts): job schedules, the daemon, retention, notifiers */
  schedules?: OpsConfig['schedules'];
  daemon?: OpsConfig['daemon'];
  retention?: OpsConfig['retention'];
  notify?: OpsConfig['notify'];
  /** the file-creation mask of CLI and daemon (default 0o077: reports, repository files and spools 0600, folders 0700) */
  umask: number;
  /** Ed25519 keys (src/core/signing/signing-keys.ts): keyFile signs evidence packs and manifests, publicKeyFile checks manifests */
  signing?: { keyFile?: string; publicKeyFile?: string };
  /** reports.language (zh-CN | en) of the reconciliation HTML/CSV and terminal; default zh-CN in a China zone, else en */
  reports?: { language: ReportLanguage };
  /** where the file was read from, for messages and relative paths */
  source?: string;
}

const TARGET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const TOP_KEYS = [
  'timezone',
  'repository',
  'repositories',
  'encryption',
  'targets',
  'backup',
  'restore',
  'state',
  'drill',
  'reconcile',
  'schedules',
  'daemon',
  'notify',
  'retention',
  'umask',
  'signing',
  'reports',
] as const;

export function parseCompression(text: string): Compression | undefined {
  const match = /^(zstd|pg_dump|none)(?::(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  const kind = match[1] as Compression['kind'];
  const level = match[2] === undefined ? (kind === 'zstd' ? 1 : kind === 'pg_dump' ? 6 : 0) : Number(match[2]);
  if (kind === 'zstd' && (level < 1 || level > 19)) return undefined;
  if (kind === 'pg_dump' && (level < 0 || level > 9)) return undefined;
  return { kind, level };
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Validate a parsed YAML document; throws ConfigError listing every problem. A checklist: each
 * section's reader in the order the issues are listed, then the sections put together.
 */
export function validateConfig(doc: unknown, source?: string): Config {
  const issues = new Issues();
  const root = Reader.root(doc, issues);
  if (!root.isObject()) throw new ConfigError(`configuration ${where(source)}must be a YAML mapping`);
  root.only(TOP_KEYS);

  const { timezone, umask } = readGeneral(root);
  const repositories = readRepositories(root);
  const repositoryRetention = readRepositoryRetention(root, rawTargetNames(doc));
  const encryption = readEncryption(root.object('encryption'));
  const targets = readTargets(root);
  const backup = readBackupSection(root.object('backup'));
  const restore = readRestoreSection(root.object('restore'));
  const state = readStateSection(root.object('state'));
  const drill = readDrillConfig(root.object('drill'));
  const reconcile = readReconcileConfig(root.object('reconcile'));
  const ops = readOpsConfig(
    root,
    targets.map((t) => t.name),
  );
  const reports = readReportsSection(root.object('reports'), timezone);
  const signing = readSigningSection(root.object('signing'));

  if (issues.list.length > 0) {
    throw new ConfigError(`invalid configuration ${where(source)}`.trim(), issues.list, {
      hint: 'see config/fapiao-guard.example.yaml and the README section "Configuration"',
    });
  }
  return {
    timezone,
    repository: { url: repositories[0]?.url ?? '', s3: repositories[0]?.s3 ?? {} },
    repositories,
    ...(Object.keys(repositoryRetention).length > 0 ? { repositoryRetention } : {}),
    encryption,
    targets,
    backup,
    restore,
    ...(state ? { state } : {}),
    drill,
    ...(reconcile ? { reconcile } : {}),
    ...ops,
    umask,
    reports,
    ...(signing ? { signing } : {}),
    ...(source ? { source } : {}),
  };
}

/** `timezone` and `umask`, the top-level settings. */
function readGeneral(root: Reader): { timezone: string; umask: number } {
  const timezone = root.string('timezone', { fallback: 'Asia/Shanghai' })!;
  // invoice numbers, amounts and tax IDs are in reports and repository files: private by default
  const umask = Number.parseInt(
    root.string('umask', {
      fallback: '077',
      pattern: /^0?[0-7]{3}$/,
      patternHint: 'must be an octal mask such as "077" (files 0600) or "027" (group may read)',
    })!,
    8,
  );
  if (!isValidTimeZone(timezone))
    root.issues.add('timezone', `unknown time zone '${timezone}' (use an IANA name such as Asia/Shanghai)`);
  return { timezone, umask: Number.isNaN(umask) ? 0o077 : umask };
}

/** Target names straight from the document: retention per repository may name them. */
function rawTargetNames(doc: unknown): string[] {
  const rawTargets = (doc as { targets?: unknown }).targets;
  return Array.isArray(rawTargets)
    ? rawTargets.map((t) => (t as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string')
    : [];
}

function readEncryption(enc: Reader): Config['encryption'] {
  enc.only(['recipients', 'identityFile']);
  const recipients = enc.strings('recipients', { required: true, nonEmpty: true });
  for (const [i, r] of recipients.entries()) {
    if (!/^age1[02-9ac-hj-np-z]{58}$/.test(r))
      enc.issues.add(
        `encryption.recipients[${i}]`,
        `'${r.slice(0, 12)}…' is not an age X25519 recipient (age1…); hint: make one with 'fapiao-guard keygen'`,
      );
  }
  const identityFile = enc.string('identityFile');
  return { recipients, ...(identityFile ? { identityFile } : {}) };
}

function readTargets(root: Reader): TargetConfig[] {
  const targets = root.array('targets', { required: true, nonEmpty: true }).map((t) => readTarget(t));
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    if (seen.has(t.name)) root.issues.add(`targets[${i}].name`, `duplicate target name '${t.name}'`);
    seen.add(t.name);
  });
  return targets;
}

function readBackupSection(backup: Reader): Config['backup'] {
  backup.only(['compression']);
  const compressionText = backup.string('compression', { fallback: 'zstd:1' })!;
  const compression = parseCompression(compressionText);
  if (!compression)
    backup.issues.add('backup.compression', `'${compressionText}' is not one of zstd[:1-19], pg_dump[:0-9], none`);
  return { compression: compression! };
}

function readRestoreSection(restore: Reader): Config['restore'] {
  restore.only(['spoolDir', 'jobs']);
  const spoolDir = restore.string('spoolDir');
  const jobs = restore.number('jobs', { fallback: 1, min: 1, max: 64, integer: true })!;
  return { jobs, ...(spoolDir ? { spoolDir } : {}) };
}

function readStateSection(stateReader: Reader): Config['state'] {
  stateReader.only(['url']);
  const url = stateReader.string('url', {
    pattern: /^postgres(ql)?:\/\//,
    patternHint: 'must be a postgres:// URL',
  });
  return url ? { url } : undefined;
}

function readReportsSection(reportsReader: Reader, timezone: string): NonNullable<Config['reports']> {
  reportsReader.only(['language']);
  return { language: reportsReader.oneOf('language', REPORT_LANGUAGES, defaultLanguage(timezone)) };
}

function readSigningSection(signingReader: Reader): Config['signing'] {
  signingReader.only(['keyFile', 'publicKeyFile']);
  const keyFile = signingReader.string('keyFile');
  const publicKeyFile = signingReader.string('publicKeyFile');
  if (!keyFile && !publicKeyFile) return undefined;
  return { ...(keyFile ? { keyFile } : {}), ...(publicKeyFile ? { publicKeyFile } : {}) };
}

function readTarget(t: Reader): TargetConfig {
  t.only(['name', 'url', 'verifyTables', 'globals', 'pgDumpArgs', 'jobs']);
  const name =
    t.string('name', {
      required: true,
      pattern: TARGET_NAME,
      patternHint: 'must be lowercase letters, digits, - or _ (it names folders)',
    }) ?? '';
  const url =
    t.string('url', { required: true, pattern: /^postgres(ql)?:\/\//, patternHint: 'must be a postgres:// URL' }) ?? '';
  const urlProblem = /^postgres(ql)?:\/\//.test(url) ? pgUrlProblem(url) : undefined;
  if (urlProblem) t.issues.add(t.path ? `${t.path}.url` : 'url', urlProblem);
  const verifyTables = t.strings('verifyTables');
  verifyTables.forEach((table, i) => {
    const parsed = parseQualifiedName(table);
    if (!parsed.ok)
      t.issues.add(
        `${t.path}.verifyTables[${i}]`,
        `${parsed.reason} (write a table as psql's \\dt shows it: schema.table, "Quoted" where needed)`,
      );
  });
  const jobs = t.number('jobs', { fallback: 1, min: 1, max: 64, integer: true })!;
  return { name, url, verifyTables, globals: t.boolean('globals', false), pgDumpArgs: t.strings('pgDumpArgs'), jobs };
}

/** Parse YAML text (after `${ENV}` interpolation) into a validated Config. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv, source?: string): Config {
  const { text: expanded, missing } = interpolateEnv(text, env);
  if (missing.length > 0) {
    throw new ConfigError(
      `configuration ${where(source)}uses unset environment variables`.trim(),
      [...new Set(missing)].map((m) => `\${${m}}: not set`),
      {
        hint: 'export them, or write ${NAME:-default} in the file',
      },
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(expanded);
  } catch (err) {
    const detail = err instanceof YAMLParseError ? `${err.message.split('\n')[0]}` : String(err);
    throw new ConfigError(`configuration ${where(source)}is not valid YAML: ${detail}`);
  }
  return validateConfig(doc, source);
}

function where(source?: string): string {
  return source ? `'${source}' ` : '';
}
