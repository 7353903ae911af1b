// The progress line: drawn only on a terminal, cleared when done, never on a pipe.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, formatBytes, progressText } from '../../src/core/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const out = new Writable({
    write(chunk, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text: string };
  out.text = '';
  Object.assign(out, { isTTY, columns: 80 });
  return out;
}

describe('progress', () => {
  it('draws and clears one line on a TTY', async () => {
    const tty = fakeStream(true);
    const progress = createProgress('backup invoices', tty);
    progress.update('dumped 1.0 MiB');
    progress.done();
    await new Promise((r) => setImmediate(r));
    expect(tty.text).toMatch(/^\r\x1b\[2Kbackup invoices dumped 1\.0 MiB · \d+s\r\x1b\[2K$/);
  });

  it('writes nothing when the stream is not a terminal', async () => {
    const pipe = fakeStream(false);
    const progress = createProgress('backup invoices', pipe);
    progress.update('dumped 1.0 MiB');
    progress.done();
    await new Promise((r) => setImmediate(r));
    expect(pipe.text).toBe('');
  });

  it('formats a bar when the total is known', () => {
    expect(progressText(512 * 1024, 1024 * 1024, Date.now() - 1000)).toMatch(
      /^\[#{12}\.{12}\] 50% 512\.0 KiB\/1\.0 MiB [\d.]+ KiB\/s$/,
    );
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12)).toBe('12 B');
  });
});
