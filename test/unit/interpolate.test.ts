// `${NAME}` interpolation in configuration text (src/core/config/interpolate.ts): values, defaults,
// `$$`, unset variables, and comments located exactly, even after the lexer's control tokens
// (document starts, scalar markers, unclosed flow collections) that are not part of the text.
import { describe, expect, it } from 'vitest';
import { commentRanges, interpolateEnv } from '../../src/core/config/interpolate.js';

describe('interpolateEnv', () => {
  it('a set variable, a default, an empty variable falling back, and unset ones reported in order', () => {
    expect(interpolateEnv('a: ${A}\nb: ${B:-bee}\nc: ${C:-}\nd: ${E:-dflt}\n', { A: 'x', B: 'set', E: '' })).toEqual({
      text: 'a: x\nb: set\nc: \nd: dflt\n',
      missing: [],
    });
    expect(interpolateEnv('a: ${U1}-${U2}-${U1}\nb: ${E}\n', { E: '' })).toEqual({
      text: 'a: --\nb: \n',
      missing: ['U1', 'U2', 'U1', 'E'],
    });
  });

  it('$$ is a dollar sign; names follow shell rules; other dollars stay as written', () => {
    expect(interpolateEnv('p: "$$5 $$${A} $A ${1X} ${A-b} ${_a1}"', { A: 'x', _a1: 'y' })).toEqual({
      text: 'p: "$5 $x $A ${1X} ${A-b} y"',
      missing: [],
    });
    expect(interpolateEnv('p: ${A:-a:b-c}', {})).toEqual({ text: 'p: a:b-c', missing: [] });
  });

  it('a comment keeps its ${NAME} and $$ as written; the text right after it is expanded', () => {
    expect(interpolateEnv('a: b # ${A} $$\n${A}: 1\n', { A: 'x' })).toEqual({
      text: 'a: b # ${A} $$\nx: 1\n',
      missing: [],
    });
    expect(interpolateEnv('#${A}\n${A}\n', { A: 'x' }).text).toBe('#${A}\nx\n');
    expect(interpolateEnv('k: "#${A}"\n', { A: 'x' }).text).toBe('k: "#x"\n');
  });

  it('comments are found at their place after several documents, scalars and unclosed flow collections', () => {
    const env = { A: 'x' };
    expect(interpolateEnv('k1: v1\nk2: v2\na: b # c\n${A}: 1\n', env).text).toBe('k1: v1\nk2: v2\na: b # c\nx: 1\n');
    expect(interpolateEnv('a: 1\n---\nb: 2\n---\nc: 3 # c\n${A}: 1\n', env).text).toBe(
      'a: 1\n---\nb: 2\n---\nc: 3 # c\nx: 1\n',
    );
    expect(interpolateEnv('a: [b\nc: [d\ne: [f\ng # x\n${A}: 1\n', env).text).toBe(
      'a: [b\nc: [d\ne: [f\ng # x\nx: 1\n',
    );
  });
});

describe('commentRanges', () => {
  it('[start, end) of each comment in the source text', () => {
    expect(commentRanges('a: b # c\n# d\n')).toEqual([
      [5, 8],
      [9, 12],
    ]);
    expect(commentRanges('a: 1\n---\nb: 2 # x\n')).toEqual([[14, 17]]);
    expect(commentRanges('a: [b\n# c\n')).toEqual([[6, 9]]);
    expect(commentRanges('a: "# not a comment"\n')).toEqual([]);
  });
});
