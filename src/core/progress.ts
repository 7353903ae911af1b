// A one-line progress display on stderr, only when stderr is a terminal; a no-op otherwise,
// so logs and pipes stay clean.

export interface Progress {
  update(text: string): void;
  done(): void;
}

const NOOP: Progress = { update: () => undefined, done: () => undefined };

export function createProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  enabled = Boolean(stream.isTTY),
): Progress {
  if (!enabled) return NOOP;
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(text: string) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      const line = `${label} ${text} · ${((now - started) / 1000).toFixed(0)}s`;
      stream.write(`\r\x1b[2K${line.slice(0, (stream.columns || 100) - 1)}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `[#####.....] 52%` when the total is known, a byte count and rate otherwise. */
export function progressText(done: number, total: number | undefined, startedMs: number): string {
  const seconds = Math.max((Date.now() - startedMs) / 1000, 0.001);
  const rate = `${formatBytes(done / seconds)}/s`;
  if (!total) return `${formatBytes(done)} ${rate}`;
  const ratio = Math.min(done / total, 1);
  const width = 24;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0)}% ${formatBytes(done)}/${formatBytes(total)} ${rate}`;
}
