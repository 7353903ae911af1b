// Headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages
// ending in NUL on fds 3 and 4), so tests open pages in a real browser with no WebSocket client
// and no browser download: the system's `chromium` (Debian package; .ci/run installs it).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find(
  (bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0,
);

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface PageEvent {
  method: string;
  params: Record<string, unknown>;
  /** the page (session) it came from */
  sessionId?: string;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  readonly events: PageEvent[] = [];
  private readonly waiters: Array<{ method: string; sessionId: string | undefined; resolve: (e: PageEvent) => void }> =
    [];
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const input = child.stdio[4] as Readable;
    let buffer = Buffer.alloc(0);
    input.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
        this.receive(JSON.parse(buffer.subarray(0, end).toString('utf8')) as Message);
        buffer = buffer.subarray(end + 1);
      }
    });
    child.stderr?.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited: ${this.stderr}`));
      this.pending.clear();
    });
  }

  static async launch(): Promise<Browser> {
    if (!CHROMIUM) throw new Error('no chromium on PATH (Debian: apt-get install chromium fonts-noto-cjk)');
    const profile = await mkdtemp(path.join(tmpdir(), 'fg-chromium-'));
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--remote-debugging-pipe',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-extensions',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    return new Browser(child, profile);
  }

  private receive(m: Message): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m.result ?? {});
      return;
    }
    if (!m.method) return;
    const event = { method: m.method, params: m.params ?? {}, ...(m.sessionId ? { sessionId: m.sessionId } : {}) };
    this.events.push(event);
    for (const [i, w] of [...this.waiters.entries()].reverse()) {
      if (w.method === m.method && w.sessionId === m.sessionId) {
        this.waiters.splice(i, 1);
        w.resolve(event);
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const out = this.child.stdio[3] as Writable;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      out.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** The next event of this name (from now on) of a page, or of the browser. */
  next(method: string, sessionId?: string): Promise<PageEvent> {
    return new Promise((resolve) => this.waiters.push({ method, sessionId, resolve }));
  }

  eventsOf(sessionId: string): PageEvent[] {
    return this.events.filter((e) => e.sessionId === sessionId);
  }

  /** A new page of the given size, with console, log and network events recorded. */
  async page(width: number, height: number): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const page = new Page(this, sessionId);
    for (const domain of ['Page', 'Runtime', 'Log', 'Network', 'DOM', 'CSS']) await page.send(`${domain}.enable`);
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.send('Browser.close').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await rm(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(
    private readonly browser: Browser,
    readonly sessionId: string,
  ) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  async open(url: string): Promise<void> {
    const loaded = this.browser.next('Page.loadEventFired', this.sessionId);
    const res = (await this.send('Page.navigate', { url })) as { errorText?: string };
    if (res.errorText) throw new Error(`cannot open ${url}: ${res.errorText}`);
    await loaded;
  }

  async evaluate<T>(expression: string): Promise<T> {
    const res = (await this.send('Runtime.evaluate', { expression, returnByValue: true })) as {
      result: { value: T };
      exceptionDetails?: { text: string };
    };
    if (res.exceptionDetails) throw new Error(`evaluate failed: ${res.exceptionDetails.text}`);
    return res.result.value;
  }

  /** Console errors, uncaught exceptions, error log entries and failed or 4xx/5xx loads seen so far. */
  problems(): string[] {
    return this.browser.eventsOf(this.sessionId).flatMap((e) => {
      const p = e.params as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      if (e.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
        return [`console.${p.type}: ${JSON.stringify(p.args)}`];
      if (e.method === 'Runtime.exceptionThrown') return [`exception: ${p.exceptionDetails?.text}`];
      if (e.method === 'Log.entryAdded' && p.entry?.level === 'error')
        return [`log: ${p.entry.text} ${p.entry.url ?? ''}`];
      if (e.method === 'Network.loadingFailed') return [`failed load: ${p.errorText}`];
      if (e.method === 'Network.responseReceived' && p.response?.status >= 400)
        return [`HTTP ${p.response.status}: ${p.response.url}`];
      return [];
    });
  }

  /** Network requests the page made (a self-contained report makes none besides itself). */
  requests(): string[] {
    return this.browser
      .eventsOf(this.sessionId)
      .filter((e) => e.method === 'Network.requestWillBeSent')
      .map((e) => String((e.params.request as { url: string }).url));
  }

  /** The fonts Chromium actually drew a node's text with (by family name and glyph count). */
  async fontsOf(selector: string): Promise<Array<{ familyName: string; glyphCount: number }>> {
    const { root } = (await this.send('DOM.getDocument')) as { root: { nodeId: number } };
    const { nodeId } = (await this.send('DOM.querySelector', { nodeId: root.nodeId, selector })) as { nodeId: number };
    if (!nodeId) throw new Error(`no node for '${selector}'`);
    const { fonts } = (await this.send('CSS.getPlatformFontsForNode', { nodeId })) as {
      fonts: Array<{ familyName: string; glyphCount: number }>;
    };
    return fonts;
  }

  async contentSize(): Promise<{ width: number; height: number }> {
    const { cssContentSize } = (await this.send('Page.getLayoutMetrics')) as {
      cssContentSize: { width: number; height: number };
    };
    return { width: Math.ceil(cssContentSize.width), height: Math.ceil(cssContentSize.height) };
  }

  /** A PNG of the page from the top of one element down (at most maxHeight pixels). */
  async screenshotFrom(selector: string, maxHeight: number): Promise<Buffer> {
    const box = await this.evaluate<{ x: number; y: number; width: number } | null>(
      `(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null; const r = e.getBoundingClientRect(); return { x: 0, y: r.top + window.scrollY, width: document.documentElement.clientWidth }; })()`,
    );
    if (!box) throw new Error(`no element '${selector}'`);
    const page = await this.contentSize();
    const clip = { ...box, y: Math.max(0, box.y - 8), height: Math.min(maxHeight, page.height - box.y + 8), scale: 1 };
    const { data } = (await this.send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip,
    })) as { data: string };
    return Buffer.from(data, 'base64');
  }

  /** A PNG of the whole page (fullPage) or of the viewport. */
  async screenshot(fullPage: boolean): Promise<Buffer> {
    const clip = fullPage ? await this.contentSize() : undefined;
    const { data } = (await this.send('Page.captureScreenshot', {
      format: 'png',
      ...(clip ? { captureBeyondViewport: true, clip: { x: 0, y: 0, ...clip, scale: 1 } } : {}),
    })) as { data: string };
    return Buffer.from(data, 'base64');
  }
}
