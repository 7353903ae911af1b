// A real S3 protocol server for the suite: MinIO via testcontainers when a Docker engine answers,
// otherwise s3rver 3.7 in a child process. Either way on 127.0.0.1 with one empty bucket.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface S3TestServer {
  kind: 's3rver' | 'minio';
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** s3rver mangles aws-chunked bodies, so the client must only send checksums when required */
  checksums: 'when_required' | 'when_supported';
  /** s3rver has no AbortMultipartUpload / ListMultipartUploads */
  supportsMultipartAdmin: boolean;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));

export async function startS3Server(): Promise<S3TestServer> {
  const wanted = process.env.FG_TEST_S3; // 's3rver' | 'minio' | undefined (auto)
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
    async stop() {
      await container.stop();
    },
  };
}
