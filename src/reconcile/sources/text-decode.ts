// Bytes of an export → text: UTF-8 (BOM stripped), UTF-16 with a BOM (Excel's "Unicode text"),
// else GB18030 when the bytes are not valid UTF-8 (Excel on Chinese Windows); or a forced encoding.

export type Encoding = 'auto' | 'utf-8' | 'gb18030' | 'gbk' | 'utf-16le';

export interface Decoded {
  text: string;
  encoding: 'utf-8' | 'utf-8-bom' | 'gb18030' | 'gbk' | 'utf-16le';
}

export function decodeText(bytes: Uint8Array, encoding: Encoding = 'auto'): Decoded {
  const hasUtf8Bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const hasUtf16Bom = bytes[0] === 0xff && bytes[1] === 0xfe;
  if (encoding === 'utf-16le' || (encoding === 'auto' && hasUtf16Bom)) {
    return { text: new TextDecoder('utf-16le').decode(hasUtf16Bom ? bytes.subarray(2) : bytes), encoding: 'utf-16le' };
  }
  if (encoding === 'gb18030' || encoding === 'gbk') return { text: new TextDecoder('gb18030').decode(bytes), encoding };
  const body = hasUtf8Bom ? bytes.subarray(3) : bytes;
  if (encoding === 'utf-8')
    return { text: new TextDecoder('utf-8').decode(body), encoding: hasUtf8Bom ? 'utf-8-bom' : 'utf-8' };
  try {
    return {
      text: new TextDecoder('utf-8', { fatal: true }).decode(body),
      encoding: hasUtf8Bom ? 'utf-8-bom' : 'utf-8',
    };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'gb18030' };
  }
}

let gbTable: Map<string, number[]> | undefined;

/**
 * Text → GB18030 bytes for the characters of the two-byte GBK range (all common hanzi and
 * full-width punctuation), built by decoding every two-byte sequence once. For test fixtures and
 * demo exports that mimic Excel on Chinese Windows; characters outside GBK are refused.
 */
export function encodeGb18030(text: string): Uint8Array {
  if (!gbTable) {
    gbTable = new Map();
    const dec = new TextDecoder('gb18030');
    for (let hi = 0x81; hi <= 0xfe; hi++) {
      for (let lo = 0x40; lo <= 0xfe; lo++) {
        if (lo === 0x7f) continue;
        const ch = dec.decode(new Uint8Array([hi, lo]));
        if (ch.length === 1 && ch !== '\ufffd' && !gbTable.has(ch)) gbTable.set(ch, [hi, lo]);
      }
    }
  }
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else {
      const bytes = gbTable.get(ch);
      // plain-error-ok: an invariant, only the demo and tests encode, and their text is GBK
      if (!bytes) throw new Error(`character '${ch}' is outside the GBK range`);
      out.push(bytes[0]!, bytes[1]!);
    }
  }
  return Uint8Array.from(out);
}
