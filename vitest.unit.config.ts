// The pure core's tests: no PostgreSQL, no S3 server, no CLI build. `npm run test:unit`, and what
// Stryker runs per mutant (stryker.config.json). The full suite is vitest.config.ts (`npm test`).
import { defineConfig } from 'vitest/config';

export const UNIT_TESTS = [
  'test/crypto/*.test.ts',
  'test/config/config.test.ts',
  'test/docs/readme-config.test.ts',
  'test/prune/retention-plan.test.ts',
  'test/prune/retention-calendars.test.ts',
  'test/reconcile/engine.test.ts',
  'test/reconcile/validators.test.ts',
  'test/reconcile/report.test.ts',
  'test/reconcile/rejected-rows.test.ts',
  'test/unit/*.test.ts',
  // a lint rule as a test (reads src/, runs nothing): a refactor that brings back push(...rows) fails here first
  'test/security/no-unbounded-spread.test.ts',
];

export default defineConfig({
  test: {
    include: UNIT_TESTS,
    // spawns a vitest of its own over fixtures: part of the full suite, not of the pure core
    exclude: ['test/unit/summary-reporter.test.ts', '**/node_modules/**'],
    maxWorkers: 2,
    testTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
