// Finding and reading the configuration file: --config, then FAPIAO_GUARD_CONFIG, then the default path.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { type Config, parseConfig } from './config.js';

export const DEFAULT_CONFIG_PATH = 'config/fapiao-guard.yaml';

export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag ?? env.FAPIAO_GUARD_CONFIG ?? DEFAULT_CONFIG_PATH);
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `configuration file '${file}' not found`
        : `cannot read configuration file '${file}': ${code ?? String(err)}`,
      [],
      {
        hint: "pass --config FILE or set FAPIAO_GUARD_CONFIG; start from config/fapiao-guard.example.yaml, or try 'fapiao-guard demo'",
      },
    );
  }
  return parseConfig(text, env, file);
}
