// The HTML report in a real browser (headless Chromium with the Noto CJK fonts): it renders with no
// console error and no request besides itself, Chinese text is drawn with a CJK font (no tofu),
// nothing overflows the page, and yuan amounts line up on the right. Screenshots of the zh-CN and en
// reports are saved to test-artifacts/ (git-ignored) for people to look at.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markNotLookedUp } from '../../src/reconcile/engine/backup-lookup.js';
import type { ReconcileReport } from '../../src/reconcile/report/report.js';
import { renderHtml } from '../../src/reconcile/report/report-html.js';
import type { ReportLanguage } from '../../src/reconcile/report/report-i18n.js';
import { type Browser as BrowserT, Browser, CHROMIUM, type Page } from '../helpers/chromium.js';
import { FINDINGS, demoLike } from './report-fixture.js';

export const ARTIFACTS = path.resolve('test-artifacts');

/** The demo-like report with what a persisted run adds: ids, history, an acknowledgement, a lookup that could not run. */
function auditorReport(lang: ReportLanguage): ReconcileReport {
  const findings = structuredClone(FINDINGS).map((f, i) => ({
    ...f,
    id: `3fa9c2d${i}`,
    firstSeen: '2026-11-21T01:00:00.000Z',
    timesSeen: 3 + i,
  }));
  const lookup = {
    limit: 7,
    searched: [],
    found: 0,
    skippedCode: 'not_a_target' as const,
    skipped: 'reconcile.local is not the table of a configured target, so no backup holds its keys',
  };
  markNotLookedUp(findings, lookup);
  const dup = findings.find((f) => f.kind === 'duplicate')!;
  Object.assign(dup, {
    acknowledgement: { by: 'li.wei', at: '2026-11-27T02:15:00.000Z', reason: '税务局确认：重复导出，工单 4411' },
  });
  const r = demoLike(lang, findings);
  r.run.parameters.backupLookup = lookup;
  return r;
}

// CI must have the browser (.ci/run installs it); elsewhere a machine without one skips, named.
const hasBrowser = CHROMIUM !== undefined || process.env.CI === 'true';

describe.skipIf(!hasBrowser)('the HTML report in headless Chromium', () => {
  let browser: BrowserT;
  let dir: string;

  beforeAll(async () => {
    browser = await Browser.launch();
    dir = await mkdtemp(path.join(tmpdir(), 'fg-report-browser-'));
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(lang: ReportLanguage, width: number): Promise<{ page: Page; url: string }> {
    const file = path.join(dir, `reconcile-${lang}.html`);
    await writeFile(file, renderHtml(auditorReport(lang), 'a'.repeat(64)));
    const page = await browser.page(width, 900);
    const url = pathToFileURL(file).href;
    await page.open(url);
    return { page, url };
  }

  for (const lang of ['zh-CN', 'en'] as const) {
    it(`${lang}: no console errors, no other request, no overflow; screenshots saved`, async () => {
      const { page, url } = await open(lang, 1280);
      expect(page.problems()).toEqual([]);
      expect(page.requests()).toEqual([url]);
      const overflow = await page.evaluate<{ scroll: number; inner: number }>(
        '({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth })',
      );
      expect(overflow.scroll).toBeLessThanOrEqual(overflow.inner);
      await writeFile(path.join(ARTIFACTS, `reconcile-${lang}-top.png`), await page.screenshot(false));
      await writeFile(path.join(ARTIFACTS, `reconcile-${lang}-full.png`), await page.screenshot(true));
      await writeFile(
        path.join(ARTIFACTS, `reconcile-${lang}-findings.png`),
        await page.screenshotFrom('#findings', 760),
      );
    });
  }

  it('the checks can fail: a page with a console error, a missing image and an exception is caught', async () => {
    const file = path.join(dir, 'broken.html');
    await writeFile(
      file,
      '<!doctype html><p>x</p><img src="missing.png"><script>console.error("boom"); null.x;</script>',
    );
    const page = await browser.page(800, 600);
    await page.open(pathToFileURL(file).href);
    const problems = page.problems().join('\n');
    expect(problems).toMatch(/console\.error: .*boom/);
    expect(problems).toMatch(/exception: /);
    expect(problems).toMatch(/failed load: net::ERR_FILE_NOT_FOUND/);
    expect(page.requests()).toContain(pathToFileURL(path.join(dir, 'missing.png')).href);
  });

  it('zh-CN: Chinese text is drawn with a CJK font, not boxes', async () => {
    const { page } = await open('zh-CN', 1280);
    for (const selector of ['h1', 'h2#per-seller', 'table.findings td i.cause']) {
      const fonts = await page.fontsOf(selector);
      const cjk = fonts.filter((f) => /CJK|PingFang|YaHei|Hei|Song|WenQuanYi/i.test(f.familyName));
      expect(
        cjk.reduce((n, f) => n + f.glyphCount, 0),
        `${selector}: ${JSON.stringify(fonts)}`,
      ).toBeGreaterThan(0);
      expect(
        fonts.filter((f) => /Last ?Resort/i.test(f.familyName)),
        selector,
      ).toEqual([]);
    }
  });

  it('yuan amounts line up on the right in every amount column, at 1280 and 1024 pixels', async () => {
    for (const width of [1280, 1024]) {
      const { page } = await open('zh-CN', width);
      // right edge of each amount's text, per table column
      const columns = await page.evaluate<Record<string, number[]>>(`(() => {
        const out = {};
        const right = (el) => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect().right; };
        for (const [t, table] of [...document.querySelectorAll('table')].entries()) {
          for (const td of table.querySelectorAll('td.num')) {
            if (!td.textContent.trim()) continue;
            const key = t + ':' + td.cellIndex;
            (out[key] ??= []).push(right(td));
          }
          for (const span of table.querySelectorAll('td.side .amount')) {
            const key = t + ':side' + span.closest('td').cellIndex;
            (out[key] ??= []).push(right(span));
          }
        }
        return out;
      })()`);
      expect(Object.keys(columns).length).toBeGreaterThan(10);
      for (const [column, rights] of Object.entries(columns)) {
        expect(
          Math.max(...rights) - Math.min(...rights),
          `column ${column} at ${width}px: ${rights.join(', ')}`,
        ).toBeLessThan(1);
      }
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, `${width}px`).toBeLessThanOrEqual(0);
    }
  });
});
