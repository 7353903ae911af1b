// Real S3 protocol servers for the suite, each on 127.0.0.1 with a fresh empty bucket:
// - s3rver 3.7 in a child process (a fake: no versions, no Object Lock, no multipart admin);
// - Ceph RADOS Gateway (scripts/s3-server/rgw.sh), a production S3 implementation, started once
//   per test run by the first test file that asks for it and stopped by global-setup.ts;
// - MinIO via testcontainers where a Docker engine answers.
// S3 test files run their suites once per server from s3ServersUnderTest(); a server that is not
// available is reported as a skipped suite whose title says why (and fails the run in CI).
import { S3Client, CreateBucketCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** What a server can do that tests depend on; a test needing one the server lacks skips naming it. */
export interface S3Capabilities {
  /** ListMultipartUploads / AbortMultipartUpload */
  multipartAdmin: boolean;
  /** buckets with versioning: object versions, delete markers */
  versioning: boolean;
  /** Object Lock retention that refuses deletes */
  objectLock: boolean;
  /** checks Content-MD5 / the signed payload sha256 of what it receives (s3rver checks neither) */
  contentDigest: boolean;
}

export interface S3TestServer {
  kind: 's3rver' | 'minio' | 'rgw';
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** s3rver mangles aws-chunked bodies, so the client must only send checksums when required */
  checksums: 'when_required' | 'when_supported';
  /** s3rver has no AbortMultipartUpload / ListMultipartUploads */
  supportsMultipartAdmin: boolean;
  capabilities: S3Capabilities;
  /** another empty bucket on the same server; with objectLock it is created with Object Lock (and so versioning) enabled */
  newBucket(options?: { objectLock?: boolean; versioning?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

export type S3ServerKind = S3TestServer['kind'];

export interface S3ServerChoice {
  kind: S3ServerKind;
  /** set when this server cannot run here: the reason, shown in the skipped suite's title */
  unavailable?: string;
  start(): Promise<S3TestServer>;
}

/**
 * The servers the S3 suites run against: s3rver and RGW always (RGW skipped with its reason when
 * it cannot start, a failure under CI=true), MinIO too where Docker answers. FG_TEST_S3=s3rver|rgw|minio
 * picks one.
 */
export async function s3ServersUnderTest(): Promise<S3ServerChoice[]> {
  const only = process.env.FG_TEST_S3;
  const kinds: S3ServerKind[] = only
    ? [only as S3ServerKind]
    : ['s3rver', 'rgw', ...(dockerAnswers() ? (['minio'] as const) : [])];
  const out: S3ServerChoice[] = [];
  for (const kind of kinds) {
    if (kind === 'rgw') {
      const rgw = await ensureRgw();
      if ('error' in rgw) {
        const reason = `Ceph RGW not available: ${rgw.error}`;
        if (process.env.CI === 'true' || process.env.CI === '1')
          throw new Error(`${reason} (CI installs it: bash .ci/run; scripts/s3-server/rgw.sh install)`);
        process.stderr.write(
          `\n*** ${reason}: the S3 suites run against s3rver only (install: sudo scripts/s3-server/rgw.sh install) ***\n`,
        );
        out.push({ kind, unavailable: reason, start: () => Promise.reject(new Error(reason)) });
      } else out.push({ kind, start: () => rgwServer(rgw) });
    } else if (kind === 's3rver') out.push({ kind, start: startS3rver });
    else if (kind === 'minio') out.push({ kind, start: startMinio });
    else throw new Error(`FG_TEST_S3='${String(kind)}' is not s3rver, rgw or minio`);
  }
  return out;
}

/** A test that needs `capability` skips (with the capability and server named) where the server lacks it. */
export function needs(server: S3TestServer, capability: keyof S3Capabilities, skip: (note: string) => void): void {
  if (!server.capabilities[capability])
    skip(`needs capability 's3 ${capability}': ${server.kind} lacks it (the test runs on the S3 servers that have it)`);
}

interface RgwInfo {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  seconds?: number;
}

const RGW_SCRIPT = fileURLToPath(new URL('../../scripts/s3-server/rgw.sh', import.meta.url));

/**
 * The run's RGW, started by the first caller (a lock folder decides who) in the folder global-setup
 * gave us; every other worker waits for its state file. Bounded: 360 s (two starts of up to 150 s).
 */
async function ensureRgw(): Promise<RgwInfo | { error: string }> {
  if (process.env.FG_TEST_RGW === 'off') return { error: 'FG_TEST_RGW=off' };
  const dir = inject('rgwDir');
  if (!dir) return { error: 'global setup gave no folder for it' };
  const stateFile = join(dir, 'state.json');
  const won = await mkdir(join(dir, 'lock')).then(
    () => true,
    () => false,
  );
  if (won) {
    // A Ceph start is a dozen daemon and CLI steps; one failed step (rare: rgw.sh retries the ones
    // seen failing) gets one more whole start in a fresh folder, and both reasons are kept.
    let state = await startRgwCluster(join(dir, 'cluster'));
    if ('error' in state) {
      const first = state.error;
      state = await startRgwCluster(join(dir, 'cluster-2'));
      if ('error' in state) state = { error: `${state.error} (a first start failed too: ${first})` };
      else process.stderr.write(`\nCeph RGW: the first start failed (${first}); the second started\n`);
    }
    await writeFile(stateFile, JSON.stringify(state));
    return state;
  }
  const deadline = Date.now() + 360_000;
  while (Date.now() < deadline) {
    if (existsSync(stateFile)) return JSON.parse(await readFile(stateFile, 'utf8')) as RgwInfo | { error: string };
    await sleep(250);
  }
  return { error: 'another test worker started it and did not report within 360 s' };
}

function startRgwCluster(clusterDir: string): Promise<RgwInfo | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [RGW_SCRIPT, 'start', clusterDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolve({ error: stderr.trim().split('\n').at(-1) || `rgw.sh start exited with ${code}` });
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as RgwInfo);
      } catch {
        resolve({ error: `rgw.sh start printed no endpoint: ${stdout.slice(0, 200)}` });
      }
    });
  });
}

/** Creating buckets, including with Object Lock, on any of our servers. */
async function createBucket(
  endpoint: string,
  region: string,
  credentials: S3TestServer['credentials'],
  options: { objectLock?: boolean; versioning?: boolean } = {},
): Promise<string> {
  const bucket = `fg-test-${randomBytes(4).toString('hex')}`;
  const client = new S3Client({
    endpoint,
    region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  try {
    await client.send(
      new CreateBucketCommand({ Bucket: bucket, ...(options.objectLock ? { ObjectLockEnabledForBucket: true } : {}) }),
    );
    if (options.versioning && !options.objectLock) {
      await client.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    }
  } finally {
    client.destroy();
  }
  return bucket;
}

async function rgwServer(info: RgwInfo): Promise<S3TestServer> {
  const credentials = { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
  const bucket = await createBucket(info.endpoint, info.region, credentials);
  return {
    kind: 'rgw',
    endpoint: info.endpoint,
    bucket,
    region: info.region,
    credentials,
    // measured on RGW 16: flexible checksums are accepted but neither checked nor stored, and a
    // streamed aws-chunked body with a trailing checksum is refused (411 MissingContentLength)
    checksums: 'when_required',
    supportsMultipartAdmin: true,
    capabilities: { multipartAdmin: true, versioning: true, objectLock: true, contentDigest: true },
    newBucket: (options) => createBucket(info.endpoint, info.region, credentials, options),
    // the cluster is the run's: global-setup.ts stops it
    async stop() {},
  };
}

const CHILD = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));

export async function startS3Server(): Promise<S3TestServer> {
  const wanted = process.env.FG_TEST_S3; // 's3rver' | 'rgw' | 'minio' | undefined (auto)
  if (wanted === 'rgw') {
    const rgw = await ensureRgw();
    if ('error' in rgw) throw new Error(`FG_TEST_S3=rgw: ${rgw.error}`);
    return rgwServer(rgw);
  }
  if (wanted === 'minio' || (wanted !== 's3rver' && dockerAnswers())) return startMinio();
  return startS3rver();
}

/** `docker info` exiting 0 within a few seconds means an engine answers; the CLI alone is not enough. */
function dockerAnswers(): boolean {
  try {
    return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 }).status === 0;
  } catch {
    return false;
  }
}

export async function startS3rver(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'fg-s3rver-'));
  const bucket = `fg-test-${randomBytes(4).toString('hex')}`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory, bucket], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s: ${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}: ${stderr}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  });
  return {
    kind: 's3rver',
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    checksums: 'when_required',
    supportsMultipartAdmin: false,
    capabilities: { multipartAdmin: false, versioning: false, objectLock: false, contentDigest: false },
    newBucket: (options) =>
      createBucket(
        `http://127.0.0.1:${port}`,
        'us-east-1',
        { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        options,
      ),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Not exercised where no Docker engine runs (this sandbox); written for CI hosts that have one. */
async function startMinio(): Promise<S3TestServer> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const credentials = { accessKeyId: 'fgminio', secretAccessKey: randomBytes(12).toString('hex') };
  const container = await new GenericContainer('minio/minio:latest')
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: credentials.accessKeyId, MINIO_ROOT_PASSWORD: credentials.secretAccessKey })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
    .start();
  const endpoint = `http://${container.getHost()}:${container.getMappedPort(9000)}`;
  const bucket = `fg-test-${randomBytes(4).toString('hex')}`;
  const region = 'us-east-1';
  const client = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    kind: 'minio',
    endpoint,
    bucket,
    region,
    credentials,
    checksums: 'when_supported',
    supportsMultipartAdmin: true,
    capabilities: { multipartAdmin: true, versioning: true, objectLock: true, contentDigest: true },
    newBucket: (options) => createBucket(endpoint, region, credentials, options),
    async stop() {
      await container.stop();
    },
  };
}
