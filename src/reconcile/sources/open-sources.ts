// Configured sides → InvoiceSources: the local table (always postgres), and the upstream file,
// database or API. Relative file paths are resolved against the configuration file's folder.
import path from 'node:path';
import type { Config } from '../../core/config/config.js';
import { ConfigError } from '../../core/errors.js';
import { openFileSource } from './file-source.js';
import { HttpSource } from './http-source.js';
import { DEFAULT_INPUT_LIMITS } from './input-limits.js';
import { PgSource } from './pg-source.js';
import type { PgSideConfig, ReconcileConfig } from '../reconcile-config.js';
import type { InvoiceSource } from '../model/types.js';

export interface OpenedSource {
  source: InvoiceSource;
  /** keys of upstream rows rejected by validation, with their origin */
  invalidKeys: Map<string, string>;
}

function urlOf(config: Config, side: PgSideConfig, what: string): string {
  if (side.url) return side.url;
  const name = side.target ?? (config.targets.length === 1 ? config.targets[0]!.name : undefined);
  if (!name)
    throw new ConfigError(`reconcile.${what} names no database`, [], {
      hint: `set reconcile.${what}.target to one of: ${config.targets.map((t) => t.name).join(', ')}`,
    });
  const target = config.targets.find((t) => t.name === name);
  if (!target)
    throw new ConfigError(`reconcile.${what}.target '${name}' is not a configured target`, [], {
      hint: `known targets: ${config.targets.map((t) => t.name).join(', ')}`,
    });
  return target.url;
}

export async function openPgSide(
  config: Config,
  rc: ReconcileConfig,
  side: PgSideConfig,
  what: 'local' | 'upstream',
): Promise<PgSource> {
  const partitionColumn = rc.partition ? side.columns[rc.partition] : undefined;
  if (rc.partition && !partitionColumn)
    throw new ConfigError(`reconcile.${what}.columns.${rc.partition} is required when partition is ${rc.partition}`);
  return PgSource.open({
    url: urlOf(config, side, what),
    ...(side.query ? { query: side.query } : { table: side.table ?? 'public.invoices' }),
    columns: side.columns,
    statusMap: side.statusMap,
    ...(side.amountUnit ? { amountUnit: side.amountUnit } : {}),
    where: `reconcile.${what}`,
    timezone: config.timezone,
    ...(partitionColumn ? { partitionColumn } : {}),
  });
}

export async function openUpstream(
  config: Config,
  rc: ReconcileConfig,
  now: Date,
  baseDir: string,
  signal?: AbortSignal,
): Promise<OpenedSource> {
  const up = rc.upstream;
  const row = {
    timezone: config.timezone,
    now,
    ...(rc.partition ? { partition: rc.partition } : {}),
    ...(up.type !== 'postgres' && up.statusMap ? { statusMap: up.statusMap } : {}),
  };
  if (up.type === 'postgres') return { source: await openPgSide(config, rc, up, 'upstream'), invalidKeys: new Map() };
  if (up.type === 'file') {
    const source = await openFileSource({
      ...row,
      path: up.path,
      baseDir,
      encoding: up.encoding,
      sheet: up.sheet,
      lineItems: up.lineItems,
      columns: up.columns,
      limits: rc.limits ?? DEFAULT_INPUT_LIMITS,
      ...(signal ? { signal } : {}),
    });
    return { source, invalidKeys: source.invalidKeys };
  }
  const source = new HttpSource({
    ...row,
    url: up.url,
    ...(up.token ? { token: up.token } : {}),
    timeoutMs: up.timeoutMs,
    retries: up.retries,
    maxRetryWaitMs: up.maxRetryWaitMs,
    pageSize: up.pageSize,
    limits: rc.limits ?? DEFAULT_INPUT_LIMITS,
    ...(signal ? { signal } : {}),
  });
  return { source, invalidKeys: source.invalidKeys };
}

/** Where relative upstream paths start: the configuration file's folder, else the working directory. */
export function baseDirOf(config: Config): string {
  return config.source ? path.dirname(config.source) : process.cwd();
}
