#!/usr/bin/env node
// Entry point: the compiled CLI in dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("fapiao-guard: not built yet (hint: run 'npm ci' or 'npm run build' in the project folder)\n");
  process.exit(70);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// Let stdout drain, then exit with the code even if a stray handle is still open.
process.stdout.write('', () => process.exit(code));
