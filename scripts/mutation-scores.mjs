#!/usr/bin/env node
// The mutation score of each mutated module from Stryker's JSON report, and a floor per module
// (docs/mutation-testing.md): `npm run test:mutation` runs Stryker, then this. Score = (killed +
// timed out) / (killed + timed out + survived + no coverage); mutants the TypeScript checker rejects
// and static ones do not count, as in Stryker's own table. Exits 1 when a module is under --min
// (default 85) or the report is missing or empty, so a run that tested nothing cannot pass. The
// undetected mutants of a module under the floor are listed, one line each (Stryker's own list of
// every mutant is turned off in stryker.config.json; the HTML report has them all).
//   node scripts/mutation-scores.mjs [--min 85] [--report reports/mutation/mutation.json] [--json]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    min: { type: 'string', default: '85' },
    report: { type: 'string', default: 'reports/mutation/mutation.json' },
    json: { type: 'boolean', default: false },
  },
});
const min = Number(values.min);
if (!Number.isFinite(min) || min < 0 || min > 100) {
  console.error(`mutation-scores: --min must be a percentage, not '${values.min}'`);
  process.exit(2);
}

let report;
try {
  report = JSON.parse(readFileSync(values.report, 'utf8'));
} catch (err) {
  console.error(`mutation-scores: cannot read the Stryker report '${values.report}': ${err.message}`);
  process.exit(1);
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const rows = Object.entries(report.files ?? {})
  .map(([file, { mutants }]) => {
    const count = (set) => mutants.filter((m) => set.has(m.status)).length;
    const detected = count(DETECTED);
    const undetected = count(UNDETECTED);
    const valid = detected + undetected;
    return {
      file,
      undetectedMutants: mutants.filter((m) => UNDETECTED.has(m.status)),
      source: report.files[file].source ?? '',
      mutants: mutants.length,
      detected,
      undetected,
      score: valid === 0 ? null : (100 * detected) / valid,
    };
  })
  .sort((a, b) => a.file.localeCompare(b.file));

const below = rows.filter((r) => r.score !== null && r.score < min);
const tested = rows.reduce((n, r) => n + r.detected + r.undetected, 0);

if (values.json) {
  const modules = rows.map(({ undetectedMutants: _u, source: _s, ...r }) => r);
  console.log(JSON.stringify({ min, modules, below: below.map((r) => r.file) }, null, 2));
} else {
  const width = Math.max(...rows.map((r) => r.file.length), 6);
  console.log(`${'module'.padEnd(width)}  score    detected  undetected  mutants`);
  for (const r of rows) {
    const score = r.score === null ? '   —  ' : `${r.score.toFixed(1).padStart(5)} %`;
    const mark = r.score !== null && r.score < min ? `  < ${min} %` : '';
    console.log(
      `${r.file.padEnd(width)}  ${score}  ${String(r.detected).padStart(8)}  ${String(r.undetected).padStart(10)}  ${String(r.mutants).padStart(7)}${mark}`,
    );
  }
  for (const r of below) for (const m of r.undetectedMutants) console.log(`  ${describe(r, m)}`);
}

/** `file:line:column Mutator (Survived): original → replacement`, the code cut to one short line. */
function describe(row, m) {
  const { start, end } = m.location;
  const lines = row.source.split('\n');
  const original =
    start.line === end.line
      ? (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1)
      : `${(lines[start.line - 1] ?? '').slice(start.column - 1)} …`;
  const short = (text) => {
    const one = String(text).replace(/\s+/g, ' ').trim();
    return one.length > 80 ? `${one.slice(0, 79)}…` : one;
  };
  return `${row.file}:${start.line}:${start.column} ${m.mutatorName} (${m.status}): ${short(original)} → ${short(m.replacement ?? '')}`;
}

if (rows.length === 0 || tested === 0) {
  console.error(`mutation-scores: '${values.report}' holds no tested mutants`);
  process.exit(1);
}
if (below.length > 0) {
  console.error(
    `mutation-scores: ${below.length} module(s) under ${min} %: ${below.map((r) => `${r.file} ${r.score.toFixed(1)} %`).join(', ')} (docs/mutation-testing.md: kill the survivors or explain them)`,
  );
  process.exit(1);
}
