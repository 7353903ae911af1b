// Runs once before all test files: find a PostgreSQL to test against, and say clearly when
// there is none. Order: $FAPIAO_GUARD_TEST_PG, the local server, then (only when a Docker
// engine answers) a testcontainers PostgreSQL.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
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
  const wanted = process.env.FAPIAO_GUARD_TEST_PG;
  if (wanted) {
    if (!(await answers(wanted))) throw new Error(`FAPIAO_GUARD_TEST_PG='${wanted.replace(/:[^:@/]*@/, ':***@')}' does not answer`);
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
    project.provide('pgServerUrl', `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`);
    return async () => {
      await container.stop();
    };
  }
  throw new Error(
    `no PostgreSQL for the tests: ${LOCAL} does not answer and no Docker engine is available. ` +
      `Start PostgreSQL (bash .ci/run does), or set FAPIAO_GUARD_TEST_PG to a server URL.`,
  );
}
