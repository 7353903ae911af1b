import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import {
  fingerprint,
  formatIdentityFile,
  generateIdentity,
  parseIdentities,
  parseRecipient,
  recipientOf,
} from '../../src/core/crypto/index.js';

// The X25519 example from the age specification (C2SP age.md).
const SPEC_IDENTITY = 'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX';
const SPEC_RECIPIENT = 'age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj';

describe('age keys', () => {
  it('derives the recipient of the specification example identity', () => {
    expect(recipientOf(SPEC_IDENTITY)).toBe(SPEC_RECIPIENT);
  });

  it('generates upper-case identities and lower-case recipients that match', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    expect(a.identity).toMatch(/^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
    expect(a.recipient).toMatch(/^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/);
    expect(recipientOf(a.identity)).toBe(a.recipient);
    expect(b.identity).not.toBe(a.identity);
  });

  it('parses identity files with comments, blank lines, CRLF and several keys', () => {
    const a = generateIdentity();
    const text = `${formatIdentityFile(SPEC_IDENTITY)}\r\n\n# another\r\n  ${a.identity}  \r\n`;
    const ids = parseIdentities(text, 'keys.txt');
    expect(ids.map((i) => i.recipient)).toEqual([SPEC_RECIPIENT, a.recipient]);
    expect(formatIdentityFile(SPEC_IDENTITY, new Date('2026-01-02T03:04:05.678Z'))).toBe(
      `# created: 2026-01-02T03:04:05Z\n# public key: ${SPEC_RECIPIENT}\n${SPEC_IDENTITY}\n`,
    );
  });

  it('rejects bad identity files without echoing the secret', () => {
    const lower = SPEC_IDENTITY.toLowerCase();
    expect(() => parseIdentities(`# c\n${lower}\n`, 'k.txt')).toThrowError(UsageError);
    expect(() => parseIdentities(`# c\n${lower}\n`, 'k.txt')).toThrowError("invalid age identity in line 2 of 'k.txt'");
    const broken = `${SPEC_IDENTITY.slice(0, -1)}Q`;
    try {
      parseIdentities(broken, 'k.txt');
      expect.fail('accepted a bad checksum');
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect(String((err as Error).message) + String((err as UsageError).hint)).not.toContain(broken.slice(16, 40));
    }
    expect(() => parseIdentities('# only comments\n\n', 'k.txt')).toThrowError("no age identities found in 'k.txt'");
    expect(() =>
      parseIdentities('AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR'),
    ).toThrowError(/unsupported age identity type/);
  });

  it('parses recipients, canonicalising case, and rejects everything else with a ConfigError', () => {
    expect(parseRecipient(` ${SPEC_RECIPIENT} `).recipient).toBe(SPEC_RECIPIENT);
    expect(parseRecipient(SPEC_RECIPIENT.toUpperCase()).recipient).toBe(SPEC_RECIPIENT);
    expect(parseRecipient(SPEC_RECIPIENT).publicKey).toHaveLength(32);
    for (const bad of [
      '',
      'age1',
      `${SPEC_RECIPIENT.slice(0, -1)}q`,
      SPEC_RECIPIENT.slice(0, 20) + SPEC_RECIPIENT.slice(20).toUpperCase(),
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
      'age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e',
    ]) {
      expect(() => parseRecipient(bad), bad).toThrowError(ConfigError);
    }
    expect(() => parseRecipient(SPEC_IDENTITY)).toThrowError(/secret key was given where a recipient/);
    expect(() => parseRecipient(SPEC_IDENTITY)).not.toThrowError(SPEC_IDENTITY.slice(16));
  });

  it('fingerprints recipients stably and case-insensitively', () => {
    const fp = fingerprint(SPEC_RECIPIENT);
    expect(fp).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(fingerprint(SPEC_RECIPIENT.toUpperCase())).toBe(fp);
    expect(fingerprint(generateIdentity().recipient)).not.toBe(fp);
    // Pinned: manifests written by one version must stay comparable with the next.
    expect(fp).toBe('sha256:6a804773982840fa');
  });
});
