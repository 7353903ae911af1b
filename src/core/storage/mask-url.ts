// Masks secrets in connection strings before they reach a log line or an error message.
// Works on the raw text (no URL round trip), so the rest of the string reads exactly as written.

/** Query or conninfo keys whose values are secrets. Over-masking is harmless; leaking is not. */
const SECRET_KEY = /pass|pwd|secret|token|signature|credential|auth|key$|^sig$/i;
const MASK = '***';

/**
 * `scheme://user:password@host/…` → `scheme://user:***@host/…`, secret-looking query parameters
 * (`?password=…`, `X-Amz-Signature=…`) → `***`, and libpq keyword form (`password=… host=…`) too.
 */
export function maskUrl(url: string): string {
  return maskConninfo(maskQuery(maskUserinfo(url)));
}

function maskUserinfo(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (!scheme) return url;
  const start = scheme[0].length;
  // The authority may hold an unencoded '/' or '@' inside a password (AWS secret keys contain '/'),
  // so take everything up to the LAST '@' before any query or fragment.
  const end = url.slice(start).search(/[?#]/);
  const head = end === -1 ? url.slice(start) : url.slice(start, start + end);
  const at = head.lastIndexOf('@');
  if (at === -1) return url;
  const userinfo = head.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon === -1 || userinfo.startsWith('/')) return url;
  return `${url.slice(0, start)}${userinfo.slice(0, colon)}:${MASK}${url.slice(start + at)}`;
}

function maskQuery(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hash = url.indexOf('#', q);
  const query = hash === -1 ? url.slice(q + 1) : url.slice(q + 1, hash);
  const masked = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      return SECRET_KEY.test(decodeSafe(pair.slice(0, eq))) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join('&');
  return `${url.slice(0, q + 1)}${masked}${hash === -1 ? '' : url.slice(hash)}`;
}

/** libpq keyword/value form: `host=db password='s e c' user=x`. */
function maskConninfo(text: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  return text.replace(/(^|\s)([A-Za-z_][\w-]*)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/g, (all, lead: string, key: string) =>
    SECRET_KEY.test(key) ? `${lead}${key}=${MASK}` : all,
  );
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Every secret in free text (an error message from anywhere: undici, pg, the AWS SDK): URLs
 * with userinfo or secret query parameters, libpq `password=…` words, bearer and basic
 * credentials. Used where errors become strings (src/core/errors.ts), so job history, /status,
 * notifications and logs all carry the masked text.
 */
export function maskSecrets(text: string): string {
  return maskConninfoWords(
    text
      .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]+/gi, (url) => maskUrl(url))
      // a credential, not the words "bearer token": at least 8 characters, one of them not a letter
      .replace(
        /\b(Bearer|Basic|bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/g,
        (_all, scheme: string) => `${scheme} ${MASK}`,
      ),
  );
}

/** `password=secret` or `password='s e c'` anywhere in a text (libpq's keyword/value form). */
function maskConninfoWords(text: string): string {
  return text.replace(
    /(^|[\s,;(])([A-Za-z_][\w-]*)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s,;)]*)/g,
    (all, lead: string, key: string, value: string) =>
      SECRET_KEY.test(key) && value !== MASK ? `${lead}${key}=${MASK}` : all,
  );
}
