// The schema reader under the configuration (src/core/config/reader.ts): each accessor's value, and
// each problem it reports with its path, written out.
import { describe, expect, it } from 'vitest';
import { Issues, Reader } from '../../src/core/config/reader.js';

function read(doc: unknown): { r: Reader; issues: string[] } {
  const issues = new Issues();
  return { r: Reader.root(doc, issues), issues: issues.list };
}

describe('Issues', () => {
  it('prefixes each problem with its path, (root) for the document itself', () => {
    const issues = new Issues();
    issues.add('', 'must be a mapping');
    issues.add('a.b[0]', 'required');
    expect(issues.list).toEqual(['(root): must be a mapping', 'a.b[0]: required']);
  });
});

describe('Reader', () => {
  it('an empty document (null) reads as an empty mapping', () => {
    const { r, issues } = read(null);
    expect(r.isObject()).toBe(true);
    expect(r.value).toEqual({});
    expect(r.path).toBe('');
    expect(r.string('x', { fallback: 'd' })).toBe('d');
    expect(issues).toEqual([]);
  });

  it('isObject and present tell mappings, lists, scalars and nothing apart', () => {
    expect(read({}).r.isObject()).toBe(true);
    expect(read([]).r.isObject()).toBe(false);
    expect(read('x').r.isObject()).toBe(false);
    expect(read(0).r.present()).toBe(true);
    expect(read(false).r.present()).toBe(true);
    expect(new Reader(null, '', new Issues()).present()).toBe(false);
    expect(new Reader(undefined, '', new Issues()).present()).toBe(false);
    expect(new Reader(null, '', new Issues()).isObject()).toBe(false);
  });

  it('object: nested paths, a mapping passes, a scalar or list is reported and read as empty', () => {
    const { r, issues } = read({ a: { b: { c: 'x' } }, s: 'text', l: [1] });
    const b = r.object('a').object('b');
    expect(b.path).toBe('a.b');
    expect(b.string('c')).toBe('x');
    const s = r.object('s');
    expect([s.path, s.value, s.isObject()]).toEqual(['s', {}, true]);
    expect(r.object('l').value).toEqual({});
    const absent = r.object('none');
    expect([absent.path, absent.value]).toEqual(['none', {}]);
    expect(issues).toEqual(['s: must be a mapping', 'l: must be a mapping']);
  });

  it('a key under a scalar reads as absent', () => {
    const { r, issues } = read({ s: 'text' });
    const s = new Reader('text', 's', new Issues());
    expect(s.string('x')).toBeUndefined();
    expect(r.has('s')).toBe(true);
    expect(s.has('length')).toBe(false);
    // a string's and a list's own properties are not keys
    expect(s.string('length')).toBeUndefined();
    expect(new Reader(['a'], 'l', new Issues()).string('0')).toBeUndefined();
    expect(issues).toEqual([]);
  });

  it('has: present and not null', () => {
    const { r } = read({ a: 1, n: null, z: 0, f: false });
    expect(['a', 'n', 'z', 'f', 'missing'].map((k) => r.has(k))).toEqual([true, false, true, true, false]);
  });

  it('only: reports each unknown key with its full path and the known ones', () => {
    const { r, issues } = read({ a: 1, b: 2, nested: { c: 1, d: 2 } });
    r.only(['a', 'nested']);
    r.object('nested').only(['c']);
    expect(issues).toEqual(['b: unknown key (known: a, nested)', 'nested.d: unknown key (known: c)']);
    // a scalar or a list has no keys to report (its characters and indexes are not keys)
    const other = new Issues();
    new Reader('scalar', 'x', other).only([]);
    new Reader(['a'], 'l', other).only([]);
    expect(other.list).toEqual([]);
  });

  it('string: numbers become text, other types and missing required keys are reported', () => {
    const { r, issues } = read({ s: 'x', n: 15, b: true, l: ['x'], p: 'abc', q: 'ab1' });
    expect(r.string('s')).toBe('x');
    expect(r.string('n')).toBe('15');
    expect(r.string('b', { fallback: 'fb' })).toBe('fb');
    expect(r.string('l')).toBeUndefined();
    expect(r.string('missing', { required: true, fallback: 'fb' })).toBe('fb');
    expect(r.string('missing2')).toBeUndefined();
    expect(r.string('p', { pattern: /^[a-z]+$/ })).toBe('abc');
    expect(r.string('q', { pattern: /^[a-z]+$/ })).toBe('ab1');
    expect(r.string('q', { pattern: /^[a-z]+$/, patternHint: 'letters only' })).toBe('ab1');
    expect(issues).toEqual([
      'b: must be a string',
      'l: must be a string',
      'missing: required',
      'q: does not match /^[a-z]+$/',
      'q: letters only',
    ]);
  });

  it('oneOf: an allowed value, else the fallback with the choices named', () => {
    const { r, issues } = read({ m: 'GOVERNANCE', bad: 'STRICT' });
    expect(r.oneOf('m', ['GOVERNANCE', 'COMPLIANCE'], 'COMPLIANCE')).toBe('GOVERNANCE');
    expect(r.oneOf('bad', ['GOVERNANCE', 'COMPLIANCE'], 'COMPLIANCE')).toBe('COMPLIANCE');
    expect(r.oneOf('missing', ['GOVERNANCE', 'COMPLIANCE'], 'GOVERNANCE')).toBe('GOVERNANCE');
    expect(r.object('x').oneOf('y', ['a'], 'a')).toBe('a');
    expect(issues).toEqual(['bad: must be one of GOVERNANCE, COMPLIANCE']);
  });

  it('number: numbers and numeric text, bounds inclusive, whole numbers when asked', () => {
    const { r, issues } = read({
      n: 5,
      t: ' 7 ',
      f: 2.5,
      e: '',
      w: 'x',
      lo: 1,
      hi: 64,
      under: 0,
      over: 65,
      inf: 'Infinity',
      b: true,
    });
    expect(r.number('n')).toBe(5);
    expect(r.number('t')).toBe(7);
    expect(r.number('f')).toBe(2.5);
    expect(r.number('f', { integer: true, fallback: 1 })).toBe(1);
    expect(r.number('e', { fallback: 3 })).toBe(3);
    expect(r.number('w')).toBeUndefined();
    expect(r.number('lo', { min: 1, max: 64 })).toBe(1);
    expect(r.number('hi', { min: 1, max: 64 })).toBe(64);
    expect(r.number('under', { min: 1, max: 64 })).toBe(0);
    expect(r.number('over', { min: 1, max: 64 })).toBe(65);
    expect(r.number('inf', { fallback: 9 })).toBe(9);
    expect(r.number('b', { fallback: 9 })).toBe(9);
    expect(r.number('missing', { fallback: 4 })).toBe(4);
    expect(issues).toEqual([
      'f: must be a whole number',
      'e: must be a number',
      'w: must be a number',
      'under: must be at least 1',
      'over: must be at most 64',
      'inf: must be a number',
      'b: must be a number',
    ]);
  });

  it('boolean: true/false and their text, else the fallback and a problem', () => {
    const { r, issues } = read({ t: true, f: false, ts: 'true', fs: 'false', y: 'yes', n: 1 });
    expect(r.boolean('t', false)).toBe(true);
    expect(r.boolean('f', true)).toBe(false);
    expect(r.boolean('ts', false)).toBe(true);
    expect(r.boolean('fs', true)).toBe(false);
    expect(r.boolean('y', true)).toBe(true);
    expect(r.boolean('n', false)).toBe(false);
    expect(r.boolean('missing', true)).toBe(true);
    expect(issues).toEqual(['y: must be true or false', 'n: must be true or false']);
  });

  it('array: one reader per element with its index in the path', () => {
    const { r, issues } = read({ l: [{ a: 1 }, 'x'], e: [], s: 'x', n: { l: [[1]] } });
    const items = r.array('l');
    expect(items.map((i) => [i.path, i.value])).toEqual([
      ['l[0]', { a: 1 }],
      ['l[1]', 'x'],
    ]);
    expect(items[0]!.number('a')).toBe(1);
    expect(
      r
        .object('n')
        .array('l')
        .map((i) => i.path),
    ).toEqual(['n.l[0]']);
    expect(r.array('e')).toEqual([]);
    expect(r.array('e', { nonEmpty: true })).toEqual([]);
    expect(r.array('s')).toEqual([]);
    expect(r.array('missing', { required: true })).toEqual([]);
    expect(r.array('missing2')).toEqual([]);
    expect(issues).toEqual(['e: must not be empty', 's: must be a list', 'missing: required']);
  });

  it('strings: trimmed non-empty strings, each other element reported', () => {
    const { r, issues } = read({ l: [' a ', 'b', '', '  ', 3, null] });
    expect(r.strings('l')).toEqual(['a', 'b']);
    expect(r.strings('missing', { required: true })).toEqual([]);
    expect(r.strings('l2', { nonEmpty: true })).toEqual([]);
    expect(issues).toEqual([
      'l[2]: must be a non-empty string',
      'l[3]: must be a non-empty string',
      'l[4]: must be a non-empty string',
      'l[5]: must be a non-empty string',
      'missing: required',
    ]);
  });
});

describe('Reader.number edges', () => {
  it('text of spaces only is not a number (not 0)', () => {
    const { r, issues } = read({ s: '   ' });
    expect(r.number('s', { fallback: 3 })).toBe(3);
    expect(issues).toEqual(['s: must be a number']);
  });
});
