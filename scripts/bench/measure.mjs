// Time a command and its peak RSS with GNU time (the largest process of the run).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** Runs `command args` (or `sh -c script`); resolves {seconds, maxRssKiB, stdout}. */
export function measure(command, args, options = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fg-bench-'));
  const timeFile = path.join(dir, 'time');
  const useTime = existsSync(GNU_TIME);
  const [cmd, argv] = useTime ? [GNU_TIME, ['-f', '%e %M', '-o', timeFile, command, ...args]] : [command, args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      let maxRssKiB = null;
      if (useTime && existsSync(timeFile))
        maxRssKiB = Number(readFileSync(timeFile, 'utf8').trim().split(/\s+/).at(-1));
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      resolve({ seconds: wall, maxRssKiB, stdout, stderr });
    });
  });
}

export function mib(bytes) {
  return (bytes / 1048576).toFixed(1);
}
