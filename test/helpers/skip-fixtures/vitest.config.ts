// Runs the skip fixtures with the summary reporter, for test/unit/summary-reporter.test.ts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: [process.env.SKIP_FIXTURE ?? 'none'],
    reporters: ['../summary-reporter.ts'],
  },
});
