// Results go to stdout: aligned tables for people, JSON for scripts.
import { formatTable } from '../core/format.js';

export { formatTable, formatTime } from '../core/format.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(headers: string[], rows: string[][]): void {
  process.stdout.write(`${formatTable(headers, rows)}\n`);
}
