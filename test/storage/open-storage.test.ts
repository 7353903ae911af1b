// The factory: which URLs open which backend, and the logging wrapper's one line per call.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, NotFoundError } from '../../src/core/errors.js';
import { openStorage } from '../../src/core/storage/open-storage.js';
import { collect, readAll } from './conformance.js';

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe('openStorage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fg-open-storage-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    [
      'http://example.com/backups',
      /unsupported repository url 'http:\/\/example.com\/backups'/,
      'file:///absolute/path or s3://bucket/prefix',
    ],
    ['/var/backups', /unsupported/, 'use file:///var/backups'],
    ['s3://key:verysecret@bucket/p', /must not carry credentials/, 'AWS credential chain'],
    ['ftp://u:verysecret@host/x', /ftp:\/\/u:\*\*\*@host\/x/, 's3://bucket/prefix'],
  ])('rejects %s with a ConfigError and a hint, masking secrets', async (url, message, hint) => {
    const err: unknown = await openStorage(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(message);
    expect((err as ConfigError).message).not.toContain('verysecret');
    expect((err as ConfigError).hint).toContain(hint);
  });

  it('logs one debug line per call with name, bytes and ms', async () => {
    const { logger, lines } = memoryLogger();
    const storage = await openStorage(pathToFileURL(dir).href, { logger });
    expect(storage.location).toBe(pathToFileURL(dir).href);
    await storage.save('a/b.txt', Readable.from([Buffer.from('hello')]));
    await storage.stat('a/b.txt');
    expect((await readAll(await storage.load('a/b.txt'))).toString()).toBe('hello');
    await collect(storage.list('a/'));
    await expect(storage.load('a/none')).rejects.toBeInstanceOf(NotFoundError);
    await storage.remove('a/b.txt');
    const calls = lines.map((l) => [l.op, l.name, l.count ?? l.bytes]);
    expect(calls).toEqual([
      ['save', 'a/b.txt', 5],
      ['stat', 'a/b.txt', 5],
      ['load', 'a/b.txt', undefined],
      ['read', 'a/b.txt', 5],
      ['list', 'a/', 1],
      ['load', 'a/none', undefined],
      ['remove', 'a/b.txt', undefined],
    ]);
    for (const line of lines) {
      expect(line.level).toBe(20);
      expect(typeof line.ms).toBe('number');
      expect(line.storage).toBe(storage.location);
    }
    expect(lines[5]?.err).toMatch(/not found/);
  });
});
