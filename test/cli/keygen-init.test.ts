// keygen writes a private 0600 identity the stock age tools accept; init creates the repository once.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fgt-keygen-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keygen and init', () => {
  it('keygen: 0600 identity whose recipient age-keygen -y agrees with; refuses to overwrite', async () => {
    const key = path.join(dir, 'keys', 'age.key');
    const res = await runCli(['keygen', '--out', key, '--json']);
    expect(res.code).toBe(0);
    const { recipient, identityFile } = JSON.parse(res.stdout);
    expect(identityFile).toBe(key);
    expect((await stat(key)).mode & 0o777).toBe(0o600);
    expect(execFileSync('age-keygen', ['-y', key]).toString().trim()).toBe(recipient);
    expect(await readFile(key, 'utf8')).toMatch(/^# created: .*\n# public key: age1.*\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    const again = await runCli(['keygen', '--out', key]);
    expect(again.code).toBe(2);
    expect(errorLine(again)).toMatch(/exists; refusing to overwrite a key/);
  });

  it('init creates fapiao-guard.json once and reports an existing repository', async () => {
    const key = path.join(dir, 'init.key');
    const { recipient } = JSON.parse((await runCli(['keygen', '--out', key, '--json'])).stdout);
    const repoDir = path.join(dir, 'repo');
    const config = path.join(dir, 'fg.yaml');
    await writeFile(
      config,
      `repository: { url: ${pathToFileURL(repoDir).href} }\nencryption: { recipients: [${recipient}] }\ntargets: [{ name: t, url: 'postgres://x@127.0.0.1:1/x' }]\n`,
    );
    const first = await runCli(['init', '--config', config, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ repository: pathToFileURL(repoDir).href, created: true });
    const info = JSON.parse(await readFile(path.join(repoDir, 'fapiao-guard.json'), 'utf8'));
    expect(info).toMatchObject({ format: 1, recipients: [recipient] });
    const second = await runCli(['init', '--config', config]);
    expect(second.stdout.trim()).toBe(`already initialised: ${pathToFileURL(repoDir).href}`);
    // a backup into a repository that was never initialised says what to do
    await writeFile(
      config,
      `repository: { url: ${pathToFileURL(path.join(dir, 'none')).href} }\nencryption: { recipients: [${recipient}] }\ntargets: [{ name: t, url: 'postgres://x@127.0.0.1:1/x' }]\n`,
    );
    const backup = await runCli(['backup', '--config', config]);
    expect(backup.code).toBe(2);
    expect(errorLine(backup)).toMatch(
      /no fapiao-guard repository at '.*none' \(hint: run 'fapiao-guard init --config .*' first\)/,
    );
    expect(errorLine(backup)).toContain(`run 'fapiao-guard init --config ${config}' first`); // copied, it works
  });
});
