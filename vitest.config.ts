import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one PostgreSQL server and two cores: keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    // CI only: one retry for timing-sensitive integration tests (signals, daemons) on a shared
    // 2-core machine; a test that fails twice is red. Locally every failure shows.
    retry: process.env.CI ? 1 : 0,
    hookTimeout: 120_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // the AWS SDK's notice that its 2027 releases need Node 22, printed by every worker on Node 20:
    // known (README), not news in a test log. The CLI still logs it once for operators.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
