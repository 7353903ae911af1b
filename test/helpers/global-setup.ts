// Runs once before all test files: find a PostgreSQL to test against, and say clearly when
// there is none. Order: $FAPIAO_GUARD_TEST_PG, the local server, then (only when a Docker
// engine answers) a testcontainers PostgreSQL.
// Also gives the run a folder for its Ceph RGW (test/helpers/s3-server.ts starts it when the
// first S3 test file asks, so runs without S3 tests pay nothing) and stops that RGW at the end,
// and the RGW of an earlier run that was killed before its end.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { processAlive } from '../../src/core/process-alive.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    /** where the run's RGW lives once started (see test/helpers/s3-server.ts) */
    rgwDir: string;
  }
}

const RGW_SCRIPT = fileURLToPath(new URL('../../scripts/s3-server/rgw.sh', import.meta.url));

/** The RGW folder for this run, and the teardown that stops the cluster if a test file started it. */
async function rgwFolder(project: TestProject): Promise<() => Promise<void>> {
  await stopOrphanedClusters();
  const dir = await mkdtemp(join(tmpdir(), RGW_PREFIX));
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  project.provide('rgwDir', dir);
  return async () => {
    if (existsSync(join(dir, 'lock'))) {
      // a start may still be under way (a run cut short): wait for it, bounded, then stop by pid files
      const deadline = Date.now() + 360_000;
      while (!existsSync(join(dir, 'state.json')) && Date.now() < deadline) await sleep(250);
      await stopClusters(dir);
    }
    await rm(dir, { recursive: true, force: true });
  };
}

const RGW_PREFIX = 'fg-test-rgw-';

/** Stop the cluster of a run's folder, and the second one test/helpers/s3-server.ts starts when the first start failed. */
async function stopClusters(dir: string): Promise<void> {
  for (const cluster of ['cluster', 'cluster-2'].map((name) => join(dir, name))) {
    if (!existsSync(join(cluster, 'ceph.conf'))) continue;
    await promisify(execFile)('bash', [RGW_SCRIPT, 'stop', cluster], { timeout: 60_000 }).catch((err: unknown) => {
      process.stderr.write(`could not stop the test RGW in ${cluster}: ${(err as Error).message}\n`);
    });
  }
}

/**
 * A run killed before its teardown (SIGTERM to vitest, a CI timeout) leaves its Ceph daemons running:
 * they are detached. The next run stops the clusters of folders whose vitest is gone.
 */
async function stopOrphanedClusters(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(RGW_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => ''));
    if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) continue;
    await stopClusters(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const stopRgw = await rgwFolder(project);
  const stopPg = await setupPg(project);
  return async () => {
    await stopRgw();
    await stopPg?.();
  };
}

async function setupPg(project: TestProject): Promise<(() => Promise<void>) | void> {
  const wanted = process.env.FAPIAO_GUARD_TEST_PG;
  if (wanted) {
    if (!(await answers(wanted)))
      throw new Error(`FAPIAO_GUARD_TEST_PG='${wanted.replace(/:[^:@/]*@/, ':***@')}' does not answer`);
    project.provide('pgServerUrl', wanted);
    return;
  }
  if (await answers(LOCAL)) {
    project.provide('pgServerUrl', LOCAL);
    return;
  }
  if (await dockerAnswers()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('postgres:15')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    project.provide(
      'pgServerUrl',
      `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
    );
    return async () => {
      await container.stop();
    };
  }
  throw new Error(
    `no PostgreSQL for the tests: ${LOCAL} does not answer and no Docker engine is available. ` +
      `Start PostgreSQL (bash .ci/run does), or set FAPIAO_GUARD_TEST_PG to a server URL.`,
  );
}
