// GET JSON from an upstream API with a bearer token, a timeout per request, and bounded retries
// that honour Retry-After. The token never appears in a message or a log line.
import { OperationError, messageOf } from '../../core/errors.js';
import { maskUrl } from '../../core/storage/mask-url.js';
import { formatSize } from './input-limits.js';

export interface HttpOptions {
  token?: string;
  timeoutMs: number;
  /** retries after the first attempt */
  retries: number;
  /** longest wait between attempts, whatever Retry-After asks */
  maxRetryWaitMs: number;
  signal?: AbortSignal;
  /** largest response body accepted (reconcile.limits.maxBodyBytes) */
  maxBodyBytes?: number;
  fetch?: typeof fetch;
  /** for tests: how to wait */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Seconds or an HTTP date → milliseconds, or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const t = header.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * The URL without its userinfo, and the userinfo as an Authorization: Basic header: fetch refuses
 * URLs with credentials (and repeats them in clear in its error).
 */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { url };
  const basic = Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString(
    'base64',
  );
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), authorization: `Basic ${basic}` };
}

/** The body as text, refused once it grows past `max` bytes (before reading, when Content-Length says so). */
async function boundedText(res: Response, max: number, shown: string): Promise<string> {
  const tooLarge = (n: string): OperationError =>
    new OperationError(
      `upstream '${shown}' answered ${n}, over the ${formatSize(max)} limit (reconcile.limits.maxBodyBytes)`,
      { hint: 'lower reconcile.upstream.pageSize, or raise reconcile.limits.maxBodyBytes' },
    );
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(formatSize(declared));
  }
  if (!res.body || max === Infinity) return res.text();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let bytes = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`more than ${formatSize(max)}`);
    }
    parts.push(decoder.decode(value, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}

export async function getJson(rawUrl: string, options: HttpOptions): Promise<unknown> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const shown = maskUrl(rawUrl);
  const { url, authorization: basic } = splitCredentials(rawUrl);
  const authorization = options.token ? `Bearer ${options.token}` : basic;
  let lastProblem = '';
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    let waitMs = Math.min(options.maxRetryWaitMs, 250 * 2 ** attempt + Math.floor(Math.random() * 100));
    try {
      const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
      const res = await doFetch(url, {
        headers: { accept: 'application/json', ...(authorization ? { authorization } : {}) },
        signal: AbortSignal.any(signals),
      });
      if (res.ok) {
        const text = await boundedText(res, options.maxBodyBytes ?? Infinity, shown);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new OperationError(
            `upstream '${shown}' did not answer JSON (${text.slice(0, 40).replace(/\s+/g, ' ')}…)`,
            { hint: 'is reconcile.upstream.url the API described in docs/ARCHITECTURE.md#upstream-api?' },
          );
        }
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 401 || res.status === 403) {
        throw new OperationError(`upstream '${shown}' refused the request (${res.status})`, {
          hint: 'check reconcile.upstream.token (sent as a bearer token)',
        });
      }
      if (!RETRYABLE.has(res.status))
        throw new OperationError(`upstream '${shown}' answered ${res.status} ${res.statusText}`.trim());
      lastProblem = `answered ${res.status}`;
      const asked = retryAfterMs(res.headers.get('retry-after'));
      if (asked !== undefined) {
        if (asked > options.maxRetryWaitMs)
          throw new OperationError(
            `upstream '${shown}' asks to retry after ${Math.ceil(asked / 1000)}s, longer than the ${Math.ceil(options.maxRetryWaitMs / 1000)}s limit`,
            { hint: 'try again later, or raise reconcile.upstream.maxRetryWait' },
          );
        waitMs = asked;
      }
    } catch (err) {
      if (err instanceof OperationError) throw err;
      if (options.signal?.aborted) throw options.signal.reason;
      lastProblem =
        (err as Error).name === 'TimeoutError'
          ? `timed out after ${options.timeoutMs}ms`
          : messageOf((err as Error).cause ?? err);
    }
    if (attempt < options.retries) await sleep(waitMs, options.signal);
  }
  throw new OperationError(`upstream '${shown}' failed ${options.retries + 1} times: ${lastProblem}`, {
    hint: 'check that the upstream API is up; retries and timeouts are set in reconcile.upstream',
  });
}
