// Adds one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary, so
// any CI reads the outcome without knowing vitest's format. Each failed test is listed above it in
// one line (`failed: file > test: first line of the error`), and, when FAPIAO_GUARD_TEST_OUTCOME
// names a file, these lines are written there too: .ci/run repeats them in its closing summary, so
// a CI log that keeps only its tail still says which test failed and why.
//
// No silent skips in CI (CI set): a skipped test fails the run unless it was skipped with
// ctx.skip(`needs capability '<name>': …`) naming a capability listed below, one a CI machine may
// not be able to provide. Every such skip is listed with its capability, in CI and locally.
import { writeFileSync } from 'node:fs';
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, Vitest } from 'vitest/node';

/** Capabilities a CI machine may lack, and why a test that needs them cannot run everywhere. */
export const CI_MAY_LACK: Readonly<Record<string, string>> = {
  'mount tmpfs': 'mounting a small tmpfs (a real full disk) needs root and a sandbox that allows mount(2)',
};

/** `s3 <feature>`: a feature one S3 server under test lacks (test/helpers/s3-server.ts `needs`); the same test runs on the servers that have it. */
const S3_FEATURE = /^s3 \w+$/;

export function ciMayLack(capability: string): boolean {
  return Boolean(CI_MAY_LACK[capability]) || S3_FEATURE.test(capability);
}

const NAMED = /^needs capability '([^']+)'/;

export default class SummaryReporter implements Reporter {
  private filtered = false;

  onInit(vitest: Vitest): void {
    // a run narrowed by -t skips the rest on purpose
    this.filtered = Boolean(vitest.config.testNamePattern);
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError> = [],
    reason?: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    const out: string[] = [];
    const named: string[] = [];
    const silent: string[] = [];
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      // a file that failed to load, or whose beforeAll/afterAll threw: its tests read as skipped,
      // so the file is one failure and its tests are not counted as skips
      if (module.state() === 'failed' && !tests.some((t) => t.result().state === 'failed')) {
        failed += 1;
        out.push(
          `failed outside any test (a load error or a hook): ${module.moduleId.replace(`${process.cwd()}/`, '')}: ${firstLine(module.errors()[0]?.message)}`,
        );
        passed += tests.filter((t) => t.result().state === 'passed').length;
        continue;
      }
      for (const test of tests) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed') {
          failed += 1;
          out.push(`failed: ${where(test)}: ${firstLine(result.errors?.[0]?.message)}`);
        } else {
          const note = result.state === 'skipped' ? result.note : undefined;
          const capability = NAMED.exec(note ?? '')?.[1];
          if (capability !== undefined && ciMayLack(capability)) named.push(`${where(test)}: ${note}`);
          else silent.push(`${where(test)}${note ? `: ${note}` : ''}`);
        }
      }
    }
    // an error no test caught (an 'error' event nobody listens to, a rejection nobody awaits) fails
    // the run while every test passed: without this line the count would read as a pass
    for (const error of unhandledErrors) out.push(`unhandled error (fails the run): ${firstLine(error.message)}`);
    if (reason === 'interrupted') out.push('the run was interrupted before every test ran');
    for (const line of named) out.push(`skipped for a missing capability: ${line}`);
    const enforce = Boolean(process.env.CI) && !this.filtered;
    if (enforce && silent.length > 0) {
      for (const line of silent) out.push(`skipped without naming a missing capability (a failure in CI): ${line}`);
      process.exitCode = 1;
    }
    out.push(
      `tests: ${passed} passed, ${failed} failed, ${named.length + silent.length} skipped${named.length ? ` (${named.length} for a missing capability)` : ''}${enforce && silent.length ? `; ${silent.length} silent skip(s) fail this CI run` : ''}`,
    );
    process.stdout.write(`\n${out.join('\n')}\n`);
    const outcome = process.env.FAPIAO_GUARD_TEST_OUTCOME;
    if (outcome) writeFileSync(outcome, `${out.join('\n')}\n`);
  }
}

/** The first non-empty line of an error message, without colours, cut at 300 characters. */
function firstLine(message: string | undefined): string {
  const line = (message ?? 'no message')
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .find((l) => l.trim() !== '');
  const text = line?.trim() ?? 'no message';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function where(test: TestCase): string {
  return `${test.module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`;
}
