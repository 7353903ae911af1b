// The message catalogue is complete: every finding kind, cause, status, evidence name and label has
// zh-CN and en text (a kind added to FINDING_KINDS without an entry fails here and in tsc), the
// language follows the zone unless reports.language says otherwise.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config/config.js';
import { generateIdentity } from '../../src/core/crypto/index.js';
import {
  CAUSE_NAMES,
  EVIDENCE_NAMES,
  KIND_NAMES,
  LOOKUP_SKIPS,
  MESSAGES,
  REPORT_LANGUAGES,
  SENTENCES,
  STATUS_NAMES,
  type Text,
  defaultLanguage,
  reportLanguage,
} from '../../src/reconcile/report/report-i18n.js';
import { CANONICAL_STATUSES, FINDING_KINDS } from '../../src/reconcile/model/types.js';

const CJK = /[\u4e00-\u9fff]/;

function bothLanguages(what: string, text: Text | undefined): void {
  expect(text, what).toBeDefined();
  expect(text!['zh-CN'].trim(), `${what} zh-CN`).not.toBe('');
  expect(text!['zh-CN'], `${what} zh-CN is Chinese`).toMatch(CJK);
  expect(text!.en.trim(), `${what} en`).not.toBe('');
  expect(text!.en, `${what} en is not Chinese`).not.toMatch(CJK);
}

describe('message catalogue', () => {
  it('every finding kind has both languages', () => {
    for (const kind of FINDING_KINDS) bothLanguages(`kind ${kind}`, KIND_NAMES[kind]);
    expect(Object.keys(KIND_NAMES).sort()).toEqual([...FINDING_KINDS].sort());
  });

  it('every cause has a name and a meaning in both languages', () => {
    // FindingCause is a type: tsc makes CAUSE_NAMES list each (and not_looked_up, shown by reports); here each entry is complete
    expect(Object.keys(CAUSE_NAMES).sort()).toEqual(['in_backup', 'not_looked_up', 'pending_sync', 'probable_typo']);
    for (const [cause, t] of Object.entries(CAUSE_NAMES)) {
      bothLanguages(`cause ${cause}`, t.name);
      bothLanguages(`cause ${cause} meaning`, t.meaning);
    }
    expect(CAUSE_NAMES.not_looked_up.name['zh-CN']).toBe('未查备份');
  });

  it('statuses, evidence names, lookup reasons and labels have both languages', () => {
    for (const s of CANONICAL_STATUSES) bothLanguages(`status ${s}`, STATUS_NAMES[s]);
    for (const [k, t] of Object.entries(EVIDENCE_NAMES)) bothLanguages(`evidence ${k}`, t);
    for (const [k, t] of Object.entries(LOOKUP_SKIPS)) bothLanguages(`lookup ${k}`, t);
    for (const [k, t] of Object.entries(MESSAGES)) {
      expect(t['zh-CN'], k).toMatch(CJK);
      expect(t.en.trim(), k).not.toBe('');
    }
    for (const [k, s] of Object.entries(SENTENCES)) {
      for (const lang of REPORT_LANGUAGES) {
        const fn = s[lang] as (...a: unknown[]) => string;
        expect(fn(1, 2, 3, 4, 5), `${k} ${lang}`).not.toBe('');
      }
    }
  });
});

describe('reports.language', () => {
  it('defaults to zh-CN in a China zone, en elsewhere', () => {
    for (const tz of ['Asia/Shanghai', 'Asia/Chongqing', 'Asia/Harbin', 'Asia/Urumqi', 'PRC'])
      expect(defaultLanguage(tz), tz).toBe('zh-CN');
    for (const tz of ['UTC', 'Europe/Berlin', 'Asia/Hong_Kong', 'Asia/Taipei', 'America/New_York'])
      expect(defaultLanguage(tz), tz).toBe('en');
    expect(reportLanguage({ timezone: 'UTC' })).toBe('en');
  });

  const base = {
    repository: { url: 'file:///tmp/r' },
    encryption: { recipients: [generateIdentity().recipient] },
    targets: [{ name: 'invoices', url: 'postgres://h/db' }],
  };
  const yaml = (doc: unknown) => parseConfig(JSON.stringify(doc), {});

  it('is read from the configuration, defaulted from the zone, and refuses other values', () => {
    expect(yaml(base).reports).toEqual({ language: 'zh-CN' }); // timezone defaults to Asia/Shanghai
    expect(yaml({ ...base, timezone: 'Europe/Berlin' }).reports).toEqual({ language: 'en' });
    expect(yaml({ ...base, timezone: 'Europe/Berlin', reports: { language: 'zh-CN' } }).reports).toEqual({
      language: 'zh-CN',
    });
    expect(yaml({ ...base, reports: { language: 'en' } }).reports).toEqual({ language: 'en' });
    expect(() => yaml({ ...base, reports: { language: 'zh', colour: 'red' } })).toThrow(
      /reports\.colour: unknown key \(known: language\).*reports\.language: must be one of zh-CN, en/,
    );
  });
});
