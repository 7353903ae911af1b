// Edges of the age header parser and framing: which line a malformed header names, what counts as
// printable, where a header ends when "---" opens the buffer, and how a long version line is quoted.
import { describe, expect, it } from 'vitest';
import { checkPrefix, findHeaderEnd, parseHeader } from '../../src/core/crypto/age-header.js';
import { encodeBase64 } from '../../src/core/crypto/age-primitives.js';
import { IntegrityError } from '../../src/core/errors.js';

const MAC = encodeBase64(Buffer.alloc(32, 7)); // 43 characters: a well-formed 32-byte mac
const FULL_LINE = 'A'.repeat(64); // a full-width body line (48 bytes)

/** A header from its lines, each ended by LF, as findHeaderEnd would cut it. */
const header = (...lines: string[]) => Buffer.from(`${lines.map((l) => `${l}\n`).join('')}`, 'latin1');

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const malformed = (line: number, what: string) => `malformed age header in 'f.age', line ${line}: ${what}`;

describe('findHeaderEnd at the start of the buffer', () => {
  it('a "---" line right after a leading LF ends the header at its own LF', () => {
    // the mark at offset 0 is a match, not "not found"
    expect(findHeaderEnd(Buffer.from('\n--- x\nrest', 'latin1'))).toEqual({ end: 7 });
  });
});

describe('checkPrefix on an unknown version', () => {
  it('quotes at most the first 64 bytes of the file when the version line is long', () => {
    // the version shown is cut at byte 64 (45 characters after "age-encryption.org/")
    const file = Buffer.from(`age-encryption.org/v${'9'.repeat(200)}\nrest`, 'latin1');
    const err = thrown(() => checkPrefix(file, 'f.age'));
    expect([err.constructor, err.message]).toEqual([
      IntegrityError,
      `unsupported age format version 'v${'9'.repeat(44)}' in 'f.age'`,
    ]);
  });
});

describe('parseHeader: printable ASCII', () => {
  it('accepts "~" (0x7e), the last printable character, in a stanza argument', () => {
    // 0x7e is printable: a stanza argument may contain it
    const parsed = parseHeader(header('age-encryption.org/v1', '-> a~b c', '', `--- ${MAC}`), 'f.age');
    expect(parsed.stanzas).toEqual([{ args: ['a~b', 'c'], body: Buffer.alloc(0) }]);
  });

  it('refuses DEL (0x7f) and names its line', () => {
    // 0x7f is not printable: the header is refused at the line holding it
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> a\x7fb', '', `--- ${MAC}`), 'f.age'));
    expect([err.constructor, err.message]).toEqual([IntegrityError, malformed(2, 'non-printable byte')]);
  });
});

describe('parseHeader: line numbers and messages of structural errors', () => {
  it('a header that ends after a stanza, with no mac line, is refused at the missing line', () => {
    // running out of lines after the stanzas is "expected a stanza or the mac line", one past the last line
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> X', ''), 'f.age'));
    expect([err.constructor, err.message]).toEqual([IntegrityError, malformed(4, 'expected a stanza or the mac line')]);
  });

  it('a stanza body of full lines followed by the mac line has no short final line', () => {
    // a "---" line where a body line is due ends the body too early, named at that line
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> X', FULL_LINE, `--- ${MAC}`), 'f.age'));
    expect([err.constructor, err.message]).toEqual([
      IntegrityError,
      malformed(4, 'stanza body does not end with a short line'),
    ]);
  });

  it('a stanza body of full lines at the end of the header has no short final line', () => {
    // running out of lines inside a body is the same error, named one past the last line
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> X', FULL_LINE), 'f.age'));
    expect(err.message).toBe(malformed(4, 'stanza body does not end with a short line'));
  });

  it('a header with no stanza is refused at the mac line', () => {
    // zero stanzas: the line after the version line is named
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', `--- ${MAC}`), 'f.age'));
    expect(err.message).toBe(malformed(2, 'no recipient stanza'));
  });

  it('a line that is neither a stanza nor the mac line is named', () => {
    // after a complete stanza, anything but "-> " or "--- " is refused at its own line
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> X', '', 'foo', `--- ${MAC}`), 'f.age'));
    expect(err.message).toBe(malformed(4, 'expected a stanza or the mac line'));
  });

  it('a line after the mac line is refused, named at that line', () => {
    // the mac line must be the header's last line
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> X', '', `--- ${MAC}`, 'extra'), 'f.age'));
    expect(err.message).toBe(malformed(5, 'data after the mac line'));
  });

  it('a mac of canonical base64 but not 32 bytes is refused at the mac line', () => {
    // "AAAA" is 3 bytes: the mac length is checked, not only its encoding
    const err = thrown(() => parseHeader(header('age-encryption.org/v1', '-> X', '', '--- AAAA'), 'f.age'));
    expect(err.message).toBe(malformed(4, 'mac is not 32 bytes of canonical base64'));
  });
});
