// Edges of the age key parsers: default subjects in messages, the hints every error carries,
// where a BOM is removed, which bech32 prefixes are an identity or a recipient, message truncation.
import { describe, expect, it } from 'vitest';
import { bech32Encode } from '../../src/core/crypto/bech32.js';
import { parseIdentities, parseIdentity, parseRecipient, recipientOf } from '../../src/core/crypto/age-keys.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';

// The X25519 example from the age specification (C2SP age.md).
const SPEC_IDENTITY = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
const SPEC_RECIPIENT = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj';

function thrown(run: () => unknown): Error & { hint?: string; issues?: readonly string[] } {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const INVALID_IDENTITY_HINT = 'expected an upper-case AGE-SECRET-KEY-1… line as written by age-keygen';

describe('parseIdentity', () => {
  // with no subject given, an invalid identity is reported as being in 'identity', with age-keygen's layout as hint
  it('names its default subject and hints at the expected layout', () => {
    const err = thrown(() => parseIdentity('not a key'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('invalid age identity in identity');
    expect(err.hint).toBe(INVALID_IDENTITY_HINT);
  });

  // surrounding whitespace and newlines around a single key are ignored
  it('trims the key it is given', () => {
    expect(parseIdentity(`  ${SPEC_IDENTITY}\n`).recipient).toBe(SPEC_RECIPIENT);
    expect(recipientOf(`\t${SPEC_IDENTITY} `)).toBe(SPEC_RECIPIENT);
  });

  // plugin and post-quantum identities are refused as unsupported (not as malformed), with a hint
  it('refuses AGE-PLUGIN- and AGE-SECRET-KEY-PQ-1 identities as unsupported types', () => {
    const hint = 'only native X25519 identities (AGE-SECRET-KEY-1…) are supported; generate one with age-keygen';
    for (const key of [
      'AGE-PLUGIN-YUBIKEY-1QQQQQQQQQQQQQQQQQQQQQQ',
      'AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR',
    ]) {
      const err = thrown(() => parseIdentity(key, 'k.txt'));
      expect(err, key).toBeInstanceOf(UsageError);
      expect(err.message, key).toBe('unsupported age identity type in k.txt');
      expect(err.hint, key).toBe(hint);
    }
  });

  // a checksummed bech32 string whose prefix is longer than AGE-SECRET-KEY- is not an identity
  it('requires the prefix to be exactly AGE-SECRET-KEY-', () => {
    const other = bech32Encode('AGE-SECRET-KEY-1X', Buffer.alloc(32, 7));
    expect(other.startsWith('AGE-SECRET-KEY-1X1')).toBe(true);
    const err = thrown(() => parseIdentity(other, 'k.txt'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('invalid age identity in k.txt');
    expect(err.hint).toBe(INVALID_IDENTITY_HINT);
  });

  // a well-formed AGE-SECRET-KEY- string carrying 31 or 33 bytes is a UsageError, not a crypto failure
  it('requires exactly 32 key bytes', () => {
    for (const size of [31, 33]) {
      const err = thrown(() => parseIdentity(bech32Encode('AGE-SECRET-KEY-', Buffer.alloc(size, 7))));
      expect(err, String(size)).toBeInstanceOf(UsageError);
      expect(err.message, String(size)).toBe('invalid age identity in identity');
    }
  });
});

describe('parseIdentities', () => {
  // with no source named, an empty file is reported as 'identity file', with how to create one as hint
  it('names its default source and hints at age-keygen -o', () => {
    const err = thrown(() => parseIdentities('# nothing here\n'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("no age identities found in 'identity file'");
    expect(err.hint).toBe('the file should contain an AGE-SECRET-KEY-1… line; create one with age-keygen -o key.txt');
    expect(thrown(() => parseIdentities('x')).message).toBe("invalid age identity in line 1 of 'identity file'");
  });

  // a leading BOM is dropped, so a file starting with BOM + comment or BOM + key reads as if it had none
  it('drops a byte-order mark at the start of the file', () => {
    expect(parseIdentities(`\uFEFF# created by a Windows editor\n${SPEC_IDENTITY}\n`)[0]?.recipient).toBe(
      SPEC_RECIPIENT,
    );
    expect(parseIdentities(`\uFEFF${SPEC_IDENTITY}`)[0]?.recipient).toBe(SPEC_RECIPIENT);
  });

  // a BOM inside a key line (not at the start of the file) is not removed: the key is invalid
  it('keeps a byte-order mark that is not at the start of the file', () => {
    const inside = `${SPEC_IDENTITY.slice(0, 30)}\uFEFF${SPEC_IDENTITY.slice(30)}`;
    const err = thrown(() => parseIdentities(`# keys\n${inside}\n`, 'k.txt'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("invalid age identity in line 2 of 'k.txt'");
  });
});

describe('parseRecipient', () => {
  // a secret key in place of a recipient: exact message, no issues list, and a hint at age-keygen -y
  it('refuses a secret key with a hint and no issues', () => {
    const err = thrown(() => parseRecipient(SPEC_IDENTITY));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('an age secret key was given where a recipient (public key) belongs');
    expect(err.issues).toEqual([]);
    expect(err.hint).toBe('use the public key printed by age-keygen -y key.txt, and keep the secret key off this host');
  });

  // a valid bech32 key under a foreign prefix (not age, not age1…) is an invalid recipient, not an unsupported type
  it('rejects a 32-byte key under a foreign prefix as invalid', () => {
    const foreign = bech32Encode('xyz', Buffer.alloc(32, 9));
    const err = thrown(() => parseRecipient(foreign));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`invalid age recipient '${foreign}'`);
    expect(err.hint).toBe('expected an age1… public key as printed by age-keygen');
  });

  // an age1<plugin>1… recipient is an unsupported type, quoted by its first 12 characters
  it('names plugin recipients as an unsupported type', () => {
    const plugin = bech32Encode('age1tag', Buffer.alloc(33, 2));
    const err = thrown(() => parseRecipient(plugin));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(`unsupported age recipient type '${plugin.slice(0, 12)}…'`);
    expect(err.hint).toBe('only native X25519 recipients (age1…) are supported');
  });

  // an invalid recipient is quoted whole up to 80 characters, and cut to 80 plus '…' beyond
  it('quotes up to 80 characters of an invalid recipient', () => {
    const eighty = `age1${'q'.repeat(76)}`;
    expect(thrown(() => parseRecipient(eighty)).message).toBe(`invalid age recipient '${eighty}'`);
    const longer = `${eighty}p`;
    expect(thrown(() => parseRecipient(longer)).message).toBe(`invalid age recipient '${eighty}…'`);
  });
});
