// Validation of upstream fields (docs/INVOICES.md): codes, numbers, taxpayer IDs (GB 32100 check
// character), amounts to integer fen, and Excel damage. Reports problems; never repairs them.

export type Check = { ok: true; warning?: string } | { ok: false; error: string };

const OK: Check = { ok: true };
const SCIENTIFIC = /^[+-]?\d+(\.\d+)?[eE][+-]?\d+$/;

function excelScientific(field: string, text: string): Check | undefined {
  if (SCIENTIFIC.test(text))
    return {
      ok: false,
      error: `${field} '${text}' is in scientific notation: Excel kept 15 significant digits and dropped the rest (re-export it as text)`,
    };
  return undefined;
}

/** 发票代码: empty (数电), 12 digits `^[01]\d{11}$`, or 10 digits. */
export function checkCode(code: string): Check {
  if (code === '') return OK;
  const sci = excelScientific('code', code);
  if (sci) return sci;
  if (!/^\d+$/.test(code)) return { ok: false, error: `code '${code}' must be digits only` };
  if (code.length === 12)
    return /^[01]/.test(code) ? OK : { ok: false, error: `12-digit code '${code}' must start with 0 or 1` };
  if (code.length === 10) return OK;
  if (code.length === 11 || code.length === 9)
    return {
      ok: false,
      error: `code '${code}' has ${code.length} digits: a leading zero was probably lost (Excel), expected ${code.length + 1}`,
    };
  return { ok: false, error: `code '${code}' has ${code.length} digits (expected 10 or 12)` };
}

/** 发票号码: 8 digits with a code, 20 digits (数电) without. */
export function checkNumber(number: string, code: string): Check {
  if (number === '') return { ok: false, error: 'invoice number is empty' };
  const sci = excelScientific('number', number);
  if (sci) return sci;
  if (!/^\d+$/.test(number)) return { ok: false, error: `number '${number}' must be digits only` };
  if (number.length === 20) {
    // Excel shows a 20-digit number as 15 significant digits followed by zeros
    if (/0{5}$/.test(number))
      return { ok: true, warning: `20-digit number '${number}' ends in five zeros: check that Excel did not round it` };
    return OK;
  }
  if (code === '') {
    if (number.length > 15 && number.length < 20)
      return {
        ok: false,
        error: `数电 number '${number}' has ${number.length} digits (expected 20): damaged by Excel?`,
      };
    if (number.length === 8) return { ok: false, error: `8-digit number '${number}' has no invoice code` };
    return { ok: false, error: `number '${number}' has ${number.length} digits (expected 20 for a 数电 invoice)` };
  }
  if (number.length === 8) return OK;
  if (number.length < 8)
    return {
      ok: false,
      error: `number '${number}' has ${number.length} digits: leading zeros were probably lost (Excel), expected 8`,
    };
  return { ok: false, error: `number '${number}' has ${number.length} digits (expected 8 with a code, 20 without)` };
}

/** Digits 1-2 of a 数电 number are the issue year's last two digits: a cross-check, a warning only. */
export function checkDigitalYear(number: string, issueYear: number): Check {
  if (!/^\d{20}$/.test(number)) return OK;
  const yy = String(issueYear % 100).padStart(2, '0');
  return number.slice(0, 2) === yy
    ? OK
    : {
        ok: true,
        warning: `数电 number '${number}' starts with '${number.slice(0, 2)}' but the invoice was issued in ${issueYear}`,
      };
}

// GB 32100-2015: 31 symbols, 0-9 then A-Z without I O Z S V.
const GB32100_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const GB32100_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character for the first 17 characters, or undefined when one is outside the alphabet. */
export function gb32100CheckChar(first17: string): string | undefined {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = GB32100_ALPHABET.indexOf(first17[i] ?? '?');
    if (v < 0) return undefined;
    sum += v * GB32100_WEIGHTS[i]!;
  }
  const c = 31 - (sum % 31);
  return GB32100_ALPHABET[c === 31 ? 0 : c];
}

/** 纳税人识别号: lengths 15, 17, 18, 20; check character for 18 (a warning: early pilot codes fail it). */
export function checkTaxId(id: string, field: string): Check {
  const sci = excelScientific(field, id);
  if (sci) return sci;
  if (!/^[0-9A-Z]+$/.test(id)) return { ok: false, error: `${field} '${id}' must be digits and capital letters` };
  if (![15, 17, 18, 20].includes(id.length))
    return { ok: false, error: `${field} '${id}' has ${id.length} characters (expected 15, 17, 18 or 20)` };
  if (id.length === 18) {
    const expected = gb32100CheckChar(id.slice(0, 17));
    if (expected === undefined)
      return { ok: true, warning: `${field} '${id}' uses characters outside the GB 32100 alphabet` };
    if (expected !== id[17])
      return { ok: true, warning: `${field} '${id}' fails the GB 32100 check character (expected '${expected}')` };
  }
  return OK;
}

export type AmountResult = { ok: true; fen: number } | { ok: false; error: string };

/**
 * Yuan text → integer fen, without floats: `1,234.5` → 123450. More than two decimals is an error,
 * except float noise in an xlsx numeric cell (`112.99999999999999`), which Excel itself wrote.
 */
export function parseAmountFen(text: string, field: string, options: { numericCell?: boolean } = {}): AmountResult {
  let t = text
    .trim()
    .replace(/^[¥￥]/, '')
    .replace(/,/g, '');
  if (t === '') return { ok: false, error: `${field} is empty` };
  if (options.numericCell && /^-?\d+\.\d{3,}$|[eE]/.test(t)) {
    const n = Number(t);
    const fen = Math.round(n * 100);
    if (Number.isFinite(n) && Math.abs(n * 100 - fen) < 1e-6 && Number.isSafeInteger(fen)) return { ok: true, fen };
  }
  const m = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) return { ok: false, error: `${field} '${text}' is not an amount` };
  const decimals = m[3] ?? '';
  if (decimals.length > 2) return { ok: false, error: `${field} '${text}' has more than 2 decimals` };
  t = `${m[2]}${decimals.padEnd(2, '0')}`;
  const fen = Number(t);
  if (!Number.isSafeInteger(fen)) return { ok: false, error: `${field} '${text}' is too large` };
  return { ok: true, fen: m[1] === '-' ? -fen : fen };
}

/** Fen → `1234.50` for people (integer arithmetic; bigint for sums). */
export function formatFen(fen: number | bigint): string {
  const v = BigInt(fen);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  return `${neg ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}
