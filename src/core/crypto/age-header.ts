// The textual age v1 header: encoding, strict parsing (canonical base64, exact 64-column
// wrapping, printable ASCII only) and the HMAC that binds it to the file key.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { IntegrityError } from '../errors.js';
import { decodeBase64Strict, encodeBase64, hkdf } from './age-primitives.js';

export const VERSION_LINE = 'age-encryption.org/v1';
const COLUMNS = 64;
const BYTES_PER_LINE = 48;
const MAC_SIZE = 32;

export interface Stanza {
  /** args[0] is the stanza type (`X25519`, `scrypt`, …). */
  readonly args: readonly string[];
  readonly body: Buffer;
}

export interface ParsedHeader {
  readonly stanzas: readonly Stanza[];
  /** The header up to and including `---`: what the MAC covers. */
  readonly macInput: Buffer;
  readonly mac: Buffer;
}

function encodeStanza(s: Stanza): string {
  let out = `-> ${s.args.join(' ')}\n`;
  // Always end with a short line, empty when the body fills its last line exactly.
  for (let i = 0; i <= s.body.length; i += BYTES_PER_LINE) {
    out += `${encodeBase64(s.body.subarray(i, i + BYTES_PER_LINE))}\n`;
  }
  return out;
}

export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(macInput)
    .digest();
}

export function encodeHeader(stanzas: readonly Stanza[], fileKey: Uint8Array): Buffer {
  const macInput = Buffer.from(`${VERSION_LINE}\n${stanzas.map(encodeStanza).join('')}---`, 'latin1');
  return Buffer.concat([macInput, Buffer.from(` ${encodeBase64(headerMac(fileKey, macInput))}\n`, 'latin1')]);
}

export function verifyHeaderMac(header: ParsedHeader, fileKey: Uint8Array): boolean {
  return timingSafeEqual(headerMac(fileKey, header.macInput), header.mac);
}

/**
 * Finds the end of the header at the start of `buf` (just past the MAC line's LF). The first line
 * starting with `---` ends it: body lines are base64 and stanza lines start with `->`. When the
 * header is incomplete, `resume` says where to search again once more bytes arrive.
 */
export function findHeaderEnd(buf: Buffer, searchFrom = 0): { end: number } | { resume: number } {
  const mark = buf.indexOf('\n---', searchFrom, 'latin1');
  if (mark < 0) return { resume: Math.max(0, buf.length - 3) };
  const lf = buf.indexOf(0x0a, mark + 4);
  return lf < 0 ? { resume: mark } : { end: lf + 1 };
}

/** Rejects input that cannot be an age v1 file as soon as its first bytes show it. */
export function checkPrefix(buf: Buffer, name: string): void {
  const expected = `${VERSION_LINE}\n`;
  const n = Math.min(buf.length, expected.length);
  if (buf.toString('latin1', 0, n) === expected.slice(0, n)) return;
  const start = buf.toString('latin1', 0, Math.min(buf.length, 64));
  if (start.startsWith('-----BEGIN AGE ENCRYPTED FILE-----'.slice(0, n))) {
    throw new IntegrityError(`'${name}' is an armored (PEM) age file, which is not supported`, {
      hint: 'decrypt it with the age CLI, or store backups in the binary format',
    });
  }
  if (start.startsWith('age-encryption.org/')) {
    const version = start.slice('age-encryption.org/'.length).split('\n')[0] ?? '';
    throw new IntegrityError(`unsupported age format version '${version}' in '${name}'`);
  }
  throw new IntegrityError(`'${name}' is not an age v1 encrypted file`, {
    hint: 'the file does not start with the age-encryption.org/v1 header',
  });
}

/** Parses a complete header as returned by findHeaderEnd; any deviation from the spec is an error. */
export function parseHeader(header: Buffer, name: string): ParsedHeader {
  const malformed = (line: number, what: string) =>
    new IntegrityError(`malformed age header in '${name}', line ${line}: ${what}`);
  for (let i = 0; i < header.length; i++) {
    const b = header[i]!;
    if (b !== 0x0a && (b < 0x20 || b > 0x7e))
      throw malformed(header.subarray(0, i).toString('latin1').split('\n').length, 'non-printable byte');
  }
  const lines = header.toString('latin1').split('\n');
  lines.pop(); // the header ends with LF, so the last element is empty
  checkPrefix(header, name);
  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length && lines[i]!.startsWith('-> ')) {
    const args = lines[i]!.slice(3).split(' ');
    if (args.some((a) => a === '')) throw malformed(i + 1, 'empty stanza argument');
    i++;
    const chunks: Buffer[] = [];
    for (;;) {
      const line = lines[i];
      if (line === undefined || line.startsWith('---'))
        throw malformed(i + 1, 'stanza body does not end with a short line');
      const bytes = line.length <= COLUMNS ? decodeBase64Strict(line) : null;
      if (bytes === null) throw malformed(i + 1, 'stanza body is not canonical base64 wrapped at 64 columns');
      chunks.push(bytes);
      i++;
      if (line.length < COLUMNS) break;
    }
    stanzas.push({ args, body: Buffer.concat(chunks) });
  }
  if (stanzas.length === 0) throw malformed(i + 1, 'no recipient stanza');
  const macLine = lines[i] ?? '';
  if (!macLine.startsWith('--- ')) throw malformed(i + 1, 'expected a stanza or the mac line');
  if (i !== lines.length - 1) throw malformed(i + 2, 'data after the mac line');
  const mac = decodeBase64Strict(macLine.slice(4));
  if (mac === null || mac.length !== MAC_SIZE) throw malformed(i + 1, 'mac is not 32 bytes of canonical base64');
  return { stanzas, mac, macInput: header.subarray(0, header.length - macLine.length - 1 + 3) };
}
