// The tool's version, read once from package.json (recorded in manifests and reports).
import { readFileSync } from 'node:fs';

function readVersion(): string {
  // src/core/version.ts under vitest, dist/src/core/version.js when built: look two and three levels up.
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'fapiao-guard' && pkg.version) return pkg.version;
    } catch {
      // not here; try the next
    }
  }
  return '0.0.0';
}

export const TOOL_VERSION = readVersion();
