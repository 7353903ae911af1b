// The configuration shown to people must be valid: every YAML block of the README (together, as
// one file) and config/fapiao-guard.example.yaml parse without a single problem.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
// every ${NAME} the documents use, with harmless values
const env = new Proxy({} as NodeJS.ProcessEnv, {
  get: (_t, name) =>
    name === 'FAPIAO_GUARD_RECIPIENT'
      ? RECIPIENT
      : String(name).endsWith('WEBHOOK')
        ? `https://hooks.example.com/${String(name)}`
        : `x-${String(name)}`,
});

describe('documented configuration', () => {
  it('README: the YAML blocks together form a valid config', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const text = blocks.join('\n').replace(/recipients: \[age1\.\.\.\]/, `recipients: [${RECIPIENT}]`);
    const config = parseConfig(text, env, 'README.md');
    expect(config.targets.map((t) => t.name)).toEqual(['invoices']);
  });

  it('config/fapiao-guard.example.yaml is valid as shipped', () => {
    const text = readFileSync(new URL('../../config/fapiao-guard.example.yaml', import.meta.url), 'utf8');
    const config = parseConfig(text, env, 'config/fapiao-guard.example.yaml');
    expect(config.encryption.recipients).toEqual([RECIPIENT]);
  });
});
