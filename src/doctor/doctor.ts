// `doctor`: after editing the config, check it against the live systems, one line per check:
// each target (connection, snapshot, read rights, pg_dump, verifyTables), reconcile's tables and
// columns and its upstream, the repository (written to and cleaned up), the identity file, the
// state database, the notifiers. Read-only except the repository probe object (removed again)
// and, with --send-test, one test message per notifier.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { pushAll } from '../core/arrays.js';
import { loadIdentities } from '../core/encryption-keys.js';
import type { Config, TargetConfig } from '../core/config/config.js';
import { messageOf, oneLine } from '../core/errors.js';
import { createNotifier } from '../daemon/notify/channels.js';
import { connect } from '../core/pg/connect.js';
import { displayName, parseQualifiedName, sqlName } from '../core/pg/identifier.js';
import { toolVersion } from '../core/pg/pg-version.js';
import { pickTable, resolveVerifyTables } from '../core/pg/verify-tables.js';
import { openFileSource } from '../reconcile/sources/file-source.js';
import { checkReconcileMapping } from '../reconcile/sources/column-check.js';
import { baseDirOf } from '../reconcile/sources/open-sources.js';
import { readColumnCatalog } from '../reconcile/sources/pg-catalog.js';
import type { FileSideConfig, HttpSideConfig, PgSideConfig } from '../reconcile/reconcile-config.js';
import type { Repository } from '../core/repository/repository.js';
import { STATE_SCHEMA } from '../core/state/migrate.js';
import { MIGRATIONS } from '../core/state/migrations/index.js';
import { stateUrl } from '../core/state/state-db.js';
import { bucketCheckOf } from '../core/storage/incomplete-uploads.js';
import { maskUrl } from '../core/storage/mask-url.js';
import { type DoctorCheck, failed, ok, pgDumpFits, unchecked } from './doctor-checks.js';

export interface DoctorOptions {
  targets: readonly TargetConfig[];
  sendTest: boolean;
  signal?: AbortSignal;
  now?: Date;
}

const why = (err: unknown): string => oneLine(messageOf(err)).slice(0, 300);
const hintOf = (err: unknown): string | undefined => (err as { hint?: string }).hint;

export async function runDoctor(config: Config, repo: Repository, options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const target of options.targets) pushAll(checks, await targetChecks(target));
  if (config.reconcile) pushAll(checks, await reconcileChecks(config, options));
  pushAll(checks, await repositoryChecks(config, repo));
  pushAll(checks, await identityChecks(config));
  pushAll(checks, await stateChecks(config));
  pushAll(checks, await notifyChecks(config, options));
  return checks;
}

async function targetChecks(target: TargetConfig): Promise<DoctorCheck[]> {
  const section = `target ${target.name}`;
  const out: DoctorCheck[] = [];
  let client: pg.Client;
  try {
    client = await connect(target.url, 'fapiao-guard doctor');
  } catch (err) {
    out.push(failed(section, 'connection', why(err), hintOf(err) ?? 'check targets[].url'));
    for (const c of ['snapshot', 'read rights', 'pg_dump', ...target.verifyTables.map((v) => `verifyTables ${v}`)])
      out.push(unchecked(section, c, 'not checked: no connection'));
    return out;
  }
  try {
    const { rows } = await client.query<{ version: string; user: string; database: string }>(
      `select current_setting('server_version') as version, current_user as user, current_database() as database`,
    );
    const server = rows[0]!;
    out.push(
      ok(
        section,
        'connection',
        `PostgreSQL ${server.version}, database '${server.database}' as '${server.user}' (${maskUrl(target.url)})`,
      ),
    );
    try {
      await client.query('begin isolation level repeatable read, read only');
      await client.query('select pg_export_snapshot()');
      out.push(ok(section, 'snapshot', 'can export a repeatable-read snapshot (shared by pg_dump and the checksums)'));
    } catch (err) {
      out.push(
        failed(
          section,
          'snapshot',
          `cannot export a snapshot: ${why(err)}`,
          'back up from a primary or a standby of PostgreSQL ≥ 10, as a role that can log in',
        ),
      );
    } finally {
      await client.query('rollback').catch(() => undefined);
    }
    out.push(await readRights(client, section, server.user));
    try {
      const pgDump = await toolVersion('pg_dump');
      out.push(
        pgDumpFits(pgDump, server.version)
          ? ok(section, 'pg_dump', `pg_dump ${pgDump} can dump PostgreSQL ${server.version}`)
          : failed(
              section,
              'pg_dump',
              `pg_dump ${pgDump} is older than the server (${server.version}): it refuses to dump it`,
              `install postgresql-client-${/^\d+/.exec(server.version)?.[0]} (or newer) and put it first on PATH`,
            ),
      );
    } catch (err) {
      out.push(failed(section, 'pg_dump', why(err), hintOf(err)));
    }
    for (const entry of target.verifyTables) {
      try {
        const [table] = await resolveVerifyTables(client, [entry]);
        const { rows: count } = await client.query<{ n: string }>(
          `select count(*)::bigint as n from ${sqlName(table!)}`,
        );
        out.push(
          ok(
            section,
            `verifyTables ${entry}`,
            `${displayName(table!)}${table!.partitioned ? ', partitioned: every partition is measured' : ''}, ${count[0]!.n} rows`,
          ),
        );
      } catch (err) {
        out.push(failed(section, `verifyTables ${entry}`, why(err), hintOf(err)));
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return out;
}

/** Every relation pg_dump reads data from (tables, materialized views, sequences) must be readable. */
async function readRights(client: pg.Client, section: string, user: string): Promise<DoctorCheck> {
  const { rows } = await client.query<{ schema: string; name: string; total: string }>(
    `select n.nspname as schema, c.relname as name, count(*) over () as total
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm', 'S') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
        and not (has_schema_privilege(n.oid, 'USAGE') and has_table_privilege(c.oid, 'SELECT'))
      order by 1, 2`,
  );
  if (rows.length === 0)
    return ok(section, 'read rights', `'${user}' can read every table, materialized view and sequence pg_dump reads`);
  const names = rows.slice(0, 3).map((r) => displayName(r));
  const first = rows[0]!;
  return failed(
    section,
    'read rights',
    `'${user}' cannot read ${rows.length} relation${rows.length > 1 ? 's' : ''}: ${names.join(', ')}${rows.length > 3 ? ', …' : ''}`,
    `grant usage on schema ${displayName({ name: first.schema })} to ${displayName({ name: user })}; grant select on all tables in schema ${displayName({ name: first.schema })} to ${displayName({ name: user })} (or use the pg_read_all_data role)`,
  );
}

function sideUrl(config: Config, side: PgSideConfig): string | undefined {
  if (side.url) return side.url;
  const name = side.target ?? (config.targets.length === 1 ? config.targets[0]!.name : undefined);
  return config.targets.find((t) => t.name === name)?.url;
}

async function pgSideChecks(config: Config, side: PgSideConfig, what: 'local' | 'upstream'): Promise<DoctorCheck[]> {
  const section = `reconcile.${what}`;
  const url = sideUrl(config, side);
  if (!url)
    return [
      failed(
        section,
        'database',
        'names no database',
        `set reconcile.${what}.target to one of: ${config.targets.map((t) => t.name).join(', ')}`,
      ),
    ];
  if (side.query) return [ok(section, 'table', 'a query: its columns are checked when reconcile runs')];
  const tableText = side.table ?? 'public.invoices';
  const parsed = parseQualifiedName(tableText);
  if (!parsed.ok)
    return [
      failed(section, `table ${tableText}`, parsed.reason, `write reconcile.${what}.table as psql's \\dt shows it`),
    ];
  let client: pg.Client;
  try {
    client = await connect(url, 'fapiao-guard doctor');
  } catch (err) {
    return [failed(section, 'connection', why(err), hintOf(err))];
  }
  const out: DoctorCheck[] = [];
  try {
    const { rows: candidates } = await client.query<{ schema: string; name: string; kind: string; visible: boolean }>(
      `select n.nspname as schema, c.relname as name, c.relkind::text as kind, pg_table_is_visible(c.oid) as visible
         from pg_class c join pg_namespace n on n.oid = c.relnamespace where lower(c.relname) = lower($1)`,
      [parsed.value.name],
    );
    // views are fine to read from, unlike verifyTables
    const asTables = candidates.map((c) => ({ ...c, kind: ['v', 'm', 'f'].includes(c.kind) ? 'r' : c.kind }));
    const pick = pickTable(tableText, parsed.value, asTables);
    if ('problem' in pick) {
      out.push(
        failed(
          section,
          `table ${tableText}`,
          pick.problem.replace(/^verify table/, 'table'),
          pick.hint ?? `fix reconcile.${what}.table`,
        ),
      );
      return out;
    }
    const table = pick.table;
    const catalog = await readColumnCatalog(client, `${sqlName(table)} as src`);
    out.push(ok(section, `table ${tableText}`, `${displayName(table)}, ${catalog.length} columns`));
    // the checker reconcile itself runs first (src/reconcile/sources/column-check.ts): same verdicts, every line
    const { checks } = checkReconcileMapping(
      { columns: side.columns, statusMap: side.statusMap, ...(side.amountUnit ? { amountUnit: side.amountUnit } : {}) },
      catalog,
      { where: section, timezone: config.timezone },
    );
    for (const c of checks) {
      if (c.ok) out.push(ok(section, `column ${c.field}`, `'${c.column}' (${c.type}): read as ${c.readAs}`));
      else {
        const near =
          c.type === undefined ? catalog.find((k) => k.name.toLowerCase() === c.column.toLowerCase()) : undefined;
        out.push(
          failed(
            section,
            `column ${c.field}`,
            `'${c.column}'${c.type ? ` (${c.type})` : ''} ${c.problem}`,
            near
              ? `did you mean '${near.name}'? (quote it in the mapping to keep its case)`
              : `fix reconcile.${what}.columns.${c.field}`,
          ),
        );
      }
    }
  } catch (err) {
    out.push(unchecked(section, 'columns', `could not read the table: ${why(err)}`));
  } finally {
    await client.end().catch(() => undefined);
  }
  return out;
}

async function reconcileChecks(config: Config, options: DoctorOptions): Promise<DoctorCheck[]> {
  const rc = config.reconcile!;
  const out = await pgSideChecks(config, rc.local, 'local');
  const up = rc.upstream;
  if (up.type === 'postgres') return [...out, ...(await pgSideChecks(config, up, 'upstream'))];
  if (up.type === 'file') out.push(await fileUpstreamCheck(config, up, options));
  else out.push(await httpUpstreamCheck(up, options));
  return out;
}

/** The upstream export files read as reconcile reads them: how many invoices are valid, how many rows rejected. */
async function fileUpstreamCheck(config: Config, up: FileSideConfig, options: DoctorOptions): Promise<DoctorCheck> {
  try {
    const source = await openFileSource({
      timezone: config.timezone,
      now: options.now ?? new Date(),
      path: up.path,
      baseDir: baseDirOf(config),
      encoding: up.encoding,
      sheet: up.sheet,
      lineItems: up.lineItems,
      columns: up.columns,
      ...(up.statusMap ? { statusMap: up.statusMap } : {}),
    });
    const problems = source.problems();
    const files = source.info.files ?? [];
    const count = source.rows().length;
    const detail = `${files.length} file${files.length === 1 ? '' : 's'} (${files.slice(0, 2).join('; ')}${files.length > 2 ? '; …' : ''}), ${count} invoices valid, ${problems.errors.length} rows rejected`;
    const first = problems.errors[0];
    if (!first) return ok('reconcile.upstream', 'file', detail);
    const problem = `${first.origin}: ${first.reason}`;
    return count === 0
      ? failed('reconcile.upstream', 'file', detail, `every row was rejected, first: ${problem}`)
      : failed('reconcile.upstream', 'file', detail, `first rejected row: ${problem}`);
  } catch (err) {
    return failed(
      'reconcile.upstream',
      'file',
      why(err),
      hintOf(err) ?? 'check reconcile.upstream.path, encoding and columns',
    );
  }
}

/** The HTTP upstream answers today's /buckets with a JSON array. */
async function httpUpstreamCheck(up: HttpSideConfig, options: DoctorOptions): Promise<DoctorCheck> {
  const day = (options.now ?? new Date()).toISOString().slice(0, 10);
  const url = `${up.url.replace(/\/+$/, '')}/buckets?from=${day}&to=${day}`;
  try {
    const res = await fetch(url, {
      headers: up.token ? { authorization: `Bearer ${up.token}` } : {},
      signal: AbortSignal.timeout(up.timeoutMs),
    });
    const body: unknown = res.ok ? await res.json().catch(() => undefined) : undefined;
    return res.ok && Array.isArray(body)
      ? ok(
          'reconcile.upstream',
          'http',
          `${maskUrl(up.url)} answers /buckets (${body.length} day${body.length === 1 ? '' : 's'} today)`,
        )
      : failed(
          'reconcile.upstream',
          'http',
          `${maskUrl(up.url)}/buckets answered HTTP ${res.status}${res.ok ? ' without a JSON array' : ''}`,
          res.status === 401 || res.status === 403
            ? 'check reconcile.upstream.token'
            : 'see README "HTTP upstream contract"',
        );
  } catch (err) {
    return failed(
      'reconcile.upstream',
      'http',
      `${maskUrl(up.url)}: ${why(err)}`,
      'check reconcile.upstream.url and that the service runs',
    );
  }
}

async function repositoryChecks(config: Config, repo: Repository): Promise<DoctorCheck[]> {
  const section = 'repository';
  const out: DoctorCheck[] = [];
  try {
    const info = await repo.requireInitialised();
    out.push(ok(section, 'initialised', `${repo.storage.location} (format ${info.format})`));
  } catch (err) {
    out.push(failed(section, 'initialised', why(err), hintOf(err)));
    out.push(unchecked(section, 'writable', 'not checked: repository not readable or not initialised'));
    return out;
  }
  const lock = config.repository.s3?.objectLock;
  // the bucket as the configuration asks for it (Object Lock, versioning), read from the server
  const bucket = bucketCheckOf(repo.storage);
  if (bucket) {
    try {
      const problems = await bucket.checkBucket();
      out.push(
        problems.length === 0
          ? ok(
              section,
              'bucket',
              lock
                ? `Object Lock enabled and versioning on, as repository.s3.objectLock (${lock.mode} ${lock.days} days per object) needs`
                : 'reachable (no Object Lock configured: backups can be deleted by anyone holding the write credentials)',
            )
          : failed(
              section,
              'bucket',
              problems.join('; '),
              'create the bucket with Object Lock enabled, or remove repository.s3.objectLock',
            ),
      );
    } catch (err) {
      out.push(unchecked(section, 'bucket', `could not read the bucket's settings: ${why(err)}`));
    }
  }
  if (lock) {
    // every object written is locked for lock.days: a probe would stay behind that long
    out.push(
      ok(
        section,
        'writable',
        `not probed: a test object would be locked for ${lock.days} days (Object Lock); 'fapiao-guard backup' proves it`,
      ),
    );
    return out;
  }
  const probe = `doctor/probe-${randomBytes(6).toString('hex')}`;
  try {
    await repo.storage.save(probe, Readable.from([Buffer.from('fapiao-guard doctor probe\n')]), {
      contentType: 'text/plain',
    });
    const stat = await repo.storage.stat(probe);
    await repo.storage.remove(probe);
    const gone = (await repo.storage.stat(probe)) === undefined;
    out.push(
      stat && gone
        ? ok(section, 'writable', 'a test object was written, read back and removed')
        : failed(
            section,
            'writable',
            stat ? `the test object '${probe}' could not be removed` : 'the test object did not read back',
            'check the repository permissions (write, list, delete)',
          ),
    );
  } catch (err) {
    await repo.storage.remove(probe).catch(() => undefined);
    out.push(
      failed(section, 'writable', why(err), hintOf(err) ?? 'check the repository permissions (write, list, delete)'),
    );
  }
  return out;
}

async function identityChecks(config: Config): Promise<DoctorCheck[]> {
  const section = 'encryption';
  if (!config.encryption.identityFile)
    return [ok(section, 'identity file', 'not configured (needed only where restore, verify --deep and drills run)')];
  try {
    const identities = await loadIdentities(config);
    const mine = new Set(identities.flatMap((i) => (i.type === 'x25519' ? [i.recipient] : [])));
    const matching = config.encryption.recipients.filter((r) => mine.has(r));
    return [
      matching.length > 0
        ? ok(
            section,
            'identity file',
            `${config.encryption.identityFile} matches recipient ${matching[0]!.slice(0, 12)}…`,
          )
        : failed(
            section,
            'identity file',
            `${config.encryption.identityFile} holds no key of the configured recipients: backups would not decrypt with it`,
            "point encryption.identityFile at the key 'fapiao-guard keygen' made for these recipients",
          ),
    ];
  } catch (err) {
    return [failed(section, 'identity file', why(err), hintOf(err))];
  }
}

async function stateChecks(config: Config): Promise<DoctorCheck[]> {
  const section = 'state';
  const url = stateUrl(config);
  let client: pg.Client;
  try {
    client = await connect(url, 'fapiao-guard doctor');
  } catch (err) {
    const missing = /does not exist/.test(messageOf(err)) && !config.state?.url;
    return [
      missing
        ? ok(
            section,
            'database',
            `${maskUrl(url)} does not exist yet: the first drill, reconcile or daemon run creates it`,
          )
        : failed(section, 'database', why(err), hintOf(err) ?? 'check state.url'),
    ];
  }
  try {
    const latest = MIGRATIONS.at(-1)!.version;
    const { rows: exists } = await client.query<{ table: string | null }>(
      `select to_regclass('${STATE_SCHEMA}.schema_migrations')::text as table`,
    );
    const version =
      exists[0]!.table === null
        ? null
        : (
            await client.query<{ version: number }>(
              `select max(version) as version from ${STATE_SCHEMA}.schema_migrations`,
            )
          ).rows[0]!.version;
    if (version === null)
      return [ok(section, 'database', `${maskUrl(url)} reachable; its tables are created on first use`)];
    if (version > latest)
      return [
        failed(
          section,
          'migrations',
          `state database is at migration ${version}, this version knows up to ${latest}`,
          'upgrade fapiao-guard on this host (a newer one migrated the state database)',
        ),
      ];
    return [
      ok(
        section,
        'migrations',
        `${maskUrl(url)} at migration ${version}${version < latest ? ` (${latest - version} to apply on next use)` : ', current'}`,
      ),
    ];
  } catch (err) {
    return [failed(section, 'database', why(err), 'the role needs usage on schema fapiao_guard')];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function notifyChecks(config: Config, options: DoctorOptions): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  for (const channel of config.notify ?? []) {
    const notifier = createNotifier(channel);
    if (!options.sendTest) {
      out.push(
        ok('notify', notifier.label, `configured for ${channel.on.join(', ')} (send a test message with --send-test)`),
      );
      continue;
    }
    const text = 'fapiao-guard doctor: test message. No job ran; nothing needs doing.';
    try {
      await notifier.send(
        { event: 'success', title: '[fapiao-guard] TEST: doctor', text, payload: { event: 'test', text } },
        options.signal ?? AbortSignal.timeout(channel.timeout * 1000),
      );
      out.push(ok('notify', notifier.label, 'test message sent'));
    } catch (err) {
      out.push(
        failed(
          'notify',
          notifier.label,
          `test message not delivered: ${why(err)}`,
          hintOf(err) ?? 'check the channel URL, secret or SMTP settings',
        ),
      );
    }
  }
  return out;
}
