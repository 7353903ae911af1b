// RetryStorage against a scripted fake backend: what is retried, what is not, and how a listing
// that fails midway resumes without repeating names.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NotFoundError, OperationError } from '../../src/core/errors.js';
import { RetryStorage } from '../../src/core/storage/retry-storage.js';
import type { ObjectInfo, Storage } from '../../src/core/storage/storage.js';
import { StorageError } from '../../src/core/storage/storage-errors.js';
import { collect } from './conformance.js';

const transient = () => new StorageError('cannot stat x: ECONNRESET', { permanent: false });

function fake(overrides: Partial<Storage>): Storage & { calls: number } {
  const base = {
    location: 'fake://',
    calls: 0,
    save: async () => ({ name: 'x', size: 0 }),
    load: async () => Readable.from([]),
    stat: async () => undefined,
    list: async function* () {},
    remove: async () => undefined,
  };
  return Object.assign(base, overrides);
}

const fast = { attempts: 3, baseMs: 1, capMs: 2 };

describe('RetryStorage', () => {
  it('retries transient failures until success', async () => {
    const inner = fake({});
    inner.stat = async () => {
      inner.calls += 1;
      if (inner.calls < 3) throw transient();
      return { name: 'x', size: 1 };
    };
    expect(await new RetryStorage(inner, fast).stat('x')).toEqual({ name: 'x', size: 1 });
    expect(inner.calls).toBe(3);
  });

  it('gives up after the configured attempts with the last error', async () => {
    const inner = fake({});
    inner.remove = async () => {
      inner.calls += 1;
      throw transient();
    };
    await expect(new RetryStorage(inner, fast).remove('x')).rejects.toBeInstanceOf(StorageError);
    expect(inner.calls).toBe(3);
  });

  it.each([
    ['not found', new NotFoundError("object 'x' not found")],
    ['permanent', new StorageError('cannot write x: permission denied', { permanent: true })],
    ['a bug', new TypeError('undefined is not a function')],
  ])('does not retry %s', async (_label, error) => {
    const inner = fake({});
    inner.load = async () => {
      inner.calls += 1;
      throw error;
    };
    await expect(new RetryStorage(inner, fast).load('x')).rejects.toBe(error);
    expect(inner.calls).toBe(1);
  });

  it('retries unclassified operation errors (network and the like)', async () => {
    const inner = fake({});
    inner.stat = async () => {
      inner.calls += 1;
      if (inner.calls === 1) throw new OperationError('socket hang up');
      return undefined;
    };
    expect(await new RetryStorage(inner, fast).stat('x')).toBeUndefined();
    expect(inner.calls).toBe(2);
  });

  it('does not retry save: its body is consumed', async () => {
    const inner = fake({});
    inner.save = async () => {
      inner.calls += 1;
      throw transient();
    };
    await expect(new RetryStorage(inner, fast).save('x', Readable.from([]))).rejects.toBeInstanceOf(StorageError);
    expect(inner.calls).toBe(1);
  });

  it('resumes a listing that fails midway without repeating or losing names', async () => {
    const all: ObjectInfo[] = ['a', 'b', 'c', 'd'].map((name) => ({ name, size: 1 }));
    const inner = fake({});
    inner.list = async function* () {
      inner.calls += 1;
      for (const [i, info] of all.entries()) {
        if (inner.calls === 1 && i === 2) throw transient();
        yield info;
      }
    };
    expect(await collect(new RetryStorage(inner, fast).list(''))).toEqual(all);
    expect(inner.calls).toBe(2);
  });
});
