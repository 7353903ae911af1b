// Bech32 (BIP-173 checksum, not bech32m) as age uses it for keys: no 90-character limit,
// all-lower or all-upper case only, data carried as 8-bit bytes regrouped into 5-bit words.

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

function convertBits(data: Uint8Array | readonly number[], from: number, to: number, pad: boolean): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    // Leftover padding must be shorter than one input group and all zero (canonical encoding).
    return null;
  }
  return out;
}

/** Encodes bytes under a human-readable part; the case of `hrp` decides the case of the output. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const upper = hrp !== hrp.toLowerCase();
  // plain-error-ok: an invariant, our prefixes are constants ('age', 'AGE-SECRET-KEY-')
  if (upper && hrp !== hrp.toUpperCase()) throw new Error(`mixed-case bech32 prefix '${hrp}'`);
  const lowerHrp = hrp.toLowerCase();
  const words = convertBits(data, 8, 5, true)!;
  const mod = polymod([...hrpExpand(lowerHrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  let out = `${lowerHrp}1`;
  for (const w of words) out += CHARSET[w];
  for (let i = 0; i < 6; i++) out += CHARSET[(mod >>> (5 * (5 - i))) & 31];
  return upper ? out.toUpperCase() : out;
}

export interface Bech32Decoded {
  /** The human-readable part, lower-cased. */
  hrp: string;
  data: Buffer;
}

/** Decodes a bech32 string; returns null when it is not valid (callers phrase their own error). */
export function bech32Decode(text: string): Bech32Decoded | null {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return null;
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) return null;
  const hrp = s.slice(0, sep);
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) return null;
  }
  const words: number[] = [];
  for (let i = sep + 1; i < s.length; i++) {
    const w = CHARSET.indexOf(s[i]!);
    if (w < 0) return null;
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) return null;
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  return bytes === null ? null : { hrp, data: Buffer.from(bytes) };
}
