// Edges of wrapping and unwrapping the file key: the exact shape an X25519 or scrypt stanza must
// have, low-order points, the scrypt work-factor limit and memory, and the no-match message and hints.
import { describe, expect, it } from 'vitest';
import type { Stanza } from '../../src/core/crypto/age-header.js';
import {
  fingerprint,
  generateIdentity,
  parseIdentity,
  parseRecipient,
  scryptIdentity,
  scryptRecipient,
} from '../../src/core/crypto/age-keys.js';
import { encodeBase64 } from '../../src/core/crypto/age-primitives.js';
import { unwrapFileKey, wrapFileKey } from '../../src/core/crypto/age-stanzas.js';
import { IntegrityError, OperationError, UsageError } from '../../src/core/errors.js';

const fileKey = Buffer.alloc(16, 0x42);
const alice = generateIdentity();
const aliceId = parseIdentity(alice.identity);
const other = generateIdentity();
const otherId = parseIdentity(other.identity);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const withArgs = (s: Stanza, args: string[]): Stanza => ({ args, body: s.body });

describe('X25519 stanzas', () => {
  it('wrapping for a low-order (all-zero) public key is refused, naming the recipient', async () => {
    // the all-zero point gives an all-zero shared secret: refused as a usage error
    const zero = { type: 'x25519' as const, recipient: 'age1zero', publicKey: Buffer.alloc(32) };
    const err = await rejection(wrapFileKey(fileKey, zero));
    expect([err.constructor, err.message]).toEqual([UsageError, "invalid age recipient 'age1zero': low-order point"]);
  });

  it('a stanza with exactly two arguments, a 32-byte share and a 32-byte body unwraps', async () => {
    // the well-formed stanza, for contrast with the malformed ones below
    const s = await wrapFileKey(fileKey, parseRecipient(alice.recipient));
    expect(s.args).toHaveLength(2);
    expect(await unwrapFileKey([s], [aliceId], 'f.age')).toEqual(fileKey);
  });

  it('an extra argument, a 31-byte share or a 31-byte body make the stanza malformed', async () => {
    // each of the three shape rules is checked on its own, before any key agreement
    const s = await wrapFileKey(fileKey, parseRecipient(alice.recipient));
    const variants: Stanza[] = [
      withArgs(s, [...s.args, 'extra']),
      withArgs(s, ['X25519', encodeBase64(Buffer.alloc(31, 9))]),
      { args: s.args, body: s.body.subarray(0, 31) },
    ];
    for (const v of variants) {
      const err = await rejection(unwrapFileKey([v], [aliceId], 'f.age'));
      expect([err.constructor, err.message]).toEqual([IntegrityError, "malformed 'X25519' stanza in 'f.age'"]);
    }
  });

  it('an all-zero ephemeral share is refused as a low-order point', async () => {
    // a low-order share is an integrity error, not a stanza for someone else
    const s: Stanza = { args: ['X25519', encodeBase64(Buffer.alloc(32))], body: Buffer.alloc(32, 1) };
    const err = await rejection(unwrapFileKey([s], [aliceId], 'f.age'));
    expect([err.constructor, err.message]).toEqual([
      IntegrityError,
      "invalid 'X25519' stanza in 'f.age': low-order ephemeral share",
    ]);
  });
});

describe('scrypt stanzas', () => {
  it('a single-digit work factor equal to the maximum unwraps', async () => {
    // the maximum is inclusive, and "4" is a valid work factor
    const s = await wrapFileKey(fileKey, scryptRecipient('pw', 4));
    expect(s.args[2]).toBe('4');
    expect(await unwrapFileKey([s], [scryptIdentity('pw', 4)], 'f.age')).toEqual(fileKey);
  });

  it('a work factor above the maximum is refused with the hint', async () => {
    // the refusal names the factor and the maximum, and says when to raise it
    const s = await wrapFileKey(fileKey, scryptRecipient('pw', 5));
    const err = await rejection(unwrapFileKey([s], [scryptIdentity('pw', 4)], 'f.age'));
    expect([err.constructor, err.message, (err as OperationError).hint]).toEqual([
      OperationError,
      "scrypt work factor 5 in 'f.age' exceeds the maximum of 4",
      'raise the maximum work factor only for files from a trusted source',
    ]);
  });

  it('malformed: an extra argument, a 15-byte salt, a 31-byte body, "04" or "4x" as the work factor', async () => {
    // every shape rule of the scrypt stanza is checked, and the work factor is exactly [1-9][0-9]*
    const s = await wrapFileKey(fileKey, scryptRecipient('pw', 4));
    const [, salt] = s.args as [string, string, string];
    const variants: Stanza[] = [
      withArgs(s, [...s.args, 'extra']),
      withArgs(s, ['scrypt', encodeBase64(Buffer.alloc(15, 3)), '4']),
      { args: s.args, body: s.body.subarray(0, 31) },
      withArgs(s, ['scrypt', salt, '04']),
      withArgs(s, ['scrypt', salt, '4x']),
    ];
    for (const v of variants) {
      const err = await rejection(unwrapFileKey([v], [scryptIdentity('pw', 4)], 'f.age'));
      expect([err.constructor, err.message]).toEqual([IntegrityError, "malformed 'scrypt' stanza in 'f.age'"]);
    }
  });

  it('work factor 16 (64 MiB, above node scrypt default memory limit) wraps and unwraps', async () => {
    // scrypt is given enough memory for 128·r·N bytes
    const s = await wrapFileKey(fileKey, scryptRecipient('pw', 16));
    expect(await unwrapFileKey([s], [scryptIdentity('pw', 16)], 'f.age')).toEqual(fileKey);
  });
});

describe('no identity matched', () => {
  it('names every stanza type once, and lists the identities tried in the hint', async () => {
    // types are ", "-separated; a passphrase identity is listed as "a passphrase"
    const x = await wrapFileKey(fileKey, parseRecipient(alice.recipient));
    const ssh: Stanza = { args: ['ssh-ed25519', 'abc'], body: Buffer.alloc(32) };
    const err = await rejection(unwrapFileKey([x, ssh, x], [otherId, scryptIdentity('pw')], 'f.age'));
    expect([err.constructor, err.message, (err as OperationError).hint]).toEqual([
      OperationError,
      "no identity matched any of the 3 recipient stanza(s) (X25519, ssh-ed25519) in 'f.age'",
      `tried identities for ${fingerprint(other.recipient)} (${other.recipient}), a passphrase; ` +
        "use the identity whose public key is one of the file's recipients",
    ]);
  });

  it('a passphrase file with a wrong passphrase among other identities: the passphrase is incorrect', async () => {
    // any passphrase identity tried means the passphrase was wrong
    const s = await wrapFileKey(fileKey, scryptRecipient('pw', 4));
    const err = await rejection(unwrapFileKey([s], [otherId, scryptIdentity('wrong', 4)], 'f.age'));
    expect((err as OperationError).hint).toBe('the file is passphrase-encrypted and the passphrase is incorrect');
  });

  it('a passphrase file with only X25519 identities: decrypt it with its passphrase', async () => {
    // no passphrase identity tried: the hint asks for the passphrase
    const s = await wrapFileKey(fileKey, scryptRecipient('pw', 4));
    const err = await rejection(unwrapFileKey([s], [otherId], 'f.age'));
    expect([err.message, (err as OperationError).hint]).toEqual([
      "no identity matched any of the 1 recipient stanza(s) (scrypt) in 'f.age'",
      'the file is passphrase-encrypted (scrypt); decrypt it with its passphrase',
    ]);
  });
});
