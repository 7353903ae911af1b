import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one PostgreSQL server and two cores: keep parallelism modest.
    maxWorkers: 2,
    // Timeouts catch hangs; they are not timing assertions. A test doing real work (a demo run, a
    // 1,100-object listing, a multipart backup restored and verified) takes over a minute on a
    // 2-core machine kept busy by other work (load 25: measured), so the limit is 3 minutes.
    testTimeout: 180_000,
    // No retry, in CI either: tests that depend on timing wait on state with deadlines (they hold
    // on a loaded 2-core machine), so a failure is a failure and shows the first time.
    retry: 0,
    hookTimeout: 300_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    // the AWS SDK's notice that its 2027 releases need Node 22, printed by every worker on Node 20:
    // known (README), not news in a test log. The CLI still logs it once for operators.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
