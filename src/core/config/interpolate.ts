// `${NAME}` and `${NAME:-default}` in configuration values, from the environment. Comments are
// left alone (a `${X}` in a comment is documentation, not a reference). Unset variables without a
// default are reported, never silently replaced by ''.
import { Lexer } from 'yaml';

export interface InterpolationResult {
  text: string;
  missing: string[];
}

/** The lexer's control tokens (document, flow end, scalar markers, BOM): not part of the source text. */
const CONTROL = new Set(['\x02', '\x18', '\x1f', '\u{FEFF}']);

/** [start, end) of every YAML comment: the lexer's tokens, minus its control tokens, are the source text exactly. */
export function commentRanges(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (CONTROL.has(token)) continue;
    if (token.startsWith('#')) out.push([offset, offset + token.length]);
    offset += token.length;
  }
  return out;
}

export function interpolateEnv(text: string, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: string[] = [];
  const comments = commentRanges(text);
  const inComment = (at: number): boolean => comments.some(([s, e]) => at >= s && at < e);
  const out = text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match: string, name: string | undefined, fallback: string | undefined, at: number) => {
      if (inComment(at)) return match;
      if (match === '$$') return '$';
      const value = env[name!];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      missing.push(name!);
      return '';
    },
  );
  return { text: out, missing };
}
