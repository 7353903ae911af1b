// Loading the configured age recipients (enough to back up) and identities (to restore).
import { readFile, stat } from 'node:fs/promises';
import { type Identity, type Recipient, parseIdentities, parseRecipient } from './crypto/index.js';
import { ConfigError } from './errors.js';
import type { Config } from './config/config.js';

export function loadRecipients(config: Config): Recipient[] {
  return config.encryption.recipients.map((r) => parseRecipient(r));
}

export async function loadIdentities(config: Config, override?: string): Promise<Identity[]> {
  const file = override ?? config.encryption.identityFile;
  if (!file) {
    throw new ConfigError('no identity file configured: restoring needs the private key', [], {
      hint: 'set encryption.identityFile in the config, or pass --identity FILE',
    });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read identity file '${file}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const mode = (await stat(file)).mode & 0o077;
  if (mode !== 0)
    process.emitWarning(
      `identity file '${file}' is readable by others (mode ${((await stat(file)).mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return parseIdentities(text, file);
}
