// Durations as config writes them (src/core/config/duration.ts): every unit, sums, bare numbers, and
// what is not a duration; formatSeconds' three ranges. Expected values are written out here.
import { describe, expect, it } from 'vitest';
import { formatSeconds, parseDuration } from '../../src/core/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 0.25],
    ['90s', 90],
    ['15m', 900],
    ['26h', 93_600],
    ['7d', 604_800],
    ['2w', 1_209_600],
    ['1h30m', 5_400],
    ['1d2h3m4s', 93_784],
    ['1.5h', 5_400],
    ['1.25h', 4_500],
    ['1m500ms', 60.5],
    ['  15m  ', 900],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([
    ['3600', 3_600],
    ['0', 0],
    ['2.5', 2.5],
    ['2.25', 2.25],
    [' 42 ', 42],
  ])('a bare number %j is seconds: %d', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '   ', 'h', '15x', '15 m', 'm15', '1h 30m', '-5m', '1.h', '.5h', '5m!', 'x5m', '5.m', '1e3'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('a bare number needs all its digits: "12.5.1" and "1.2s3" are not durations', () => {
    expect(parseDuration('12.5.1')).toBeUndefined();
    expect(parseDuration('1.2s3')).toBeUndefined();
    expect(parseDuration('a12')).toBeUndefined();
    expect(parseDuration('12a')).toBeUndefined();
  });
});

describe('formatSeconds', () => {
  it.each([
    [0, '0ms'],
    [0.0004, '0ms'],
    [0.25, '250ms'],
    [0.9996, '1000ms'],
    [1, '1.0s'],
    [9.94, '9.9s'],
    [59.9, '59.9s'],
    [60, '1m0s'],
    [61, '1m1s'],
    [90.4, '1m30s'],
    [3_599, '59m59s'],
    [3_600, '1h0s'],
    [3_660, '1h1m'],
    [5_400, '1h30m'],
    [86_399, '23h59m'],
    [86_400, '1d0s'],
    [90_061, '1d1h'],
    [93_784, '1d2h'],
    [86_460, '1d1m'],
    [1_209_600, '14d0s'],
  ])('%d seconds reads %j', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });
});
