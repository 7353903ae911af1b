// Feeding a process that stops reading early: its exit status and stderr are the error, not the EPIPE
// our next write gets (which of the two arrives first differs between runs and Node versions).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OperationError } from '../../src/core/errors.js';
import { pipeInto, startTool } from '../../src/core/pipeline/child-process.js';

/** 8 MiB: far more than a pipe buffer, so writing it into a process that stopped reading must fail */
const input = () => Readable.from(Array.from({ length: 128 }, () => randomBytes(64 * 1024)));

describe('pipeInto', () => {
  it('a process that reads a little and fails: its exit code and message, not EPIPE', async () => {
    const tool = startTool(
      'sh',
      [
        '-c',
        'head -c 1 >/dev/null; echo "zstd: error 70 : Decoding error (36) : Data corruption detected" >&2; exit 1',
      ],
      { stdin: 'pipe', label: 'zstd -d of x' },
    );
    const err = await pipeInto(input(), tool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toBe(
      'zstd -d of x failed (exit code 1): zstd: error 70 : Decoding error (36) : Data corruption detected',
    );
  });

  it('a process that exits 0 without reading its input: EPIPE stands', async () => {
    const tool = startTool('sh', ['-c', 'exit 0'], { stdin: 'pipe' });
    const err = await pipeInto(input(), tool).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toMatch(/^(EPIPE|ECONNRESET)$/);
  });

  it('a process that reads everything: resolves', async () => {
    const tool = startTool('sh', ['-c', 'cat >/dev/null'], { stdin: 'pipe' });
    await pipeInto(input(), tool);
    await tool.exited;
  });
});
