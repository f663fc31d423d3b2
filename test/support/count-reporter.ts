/**
 * Prints the plain closing line CI reads (`vitest: N passed, N failed, N skipped`); vitest's
 * own summary is not parsed by CI. It also checks that the run left no named IPC object
 * behind (`/dev/shm`, `/dev/mqueue`, `ipcs`): a leak counts as one failed test.
 */
import type { Reporter, TestModule } from 'vitest/node';

import { leaked, type Snapshot, snapshotKernelObjects } from './kernel-objects.js';

export default class CountReporter implements Reporter {
  private before: Snapshot | undefined;

  onInit(): void {
    this.before = snapshotKernelObjects();
  }

  onTestRunEnd(testModules: readonly TestModule[], unhandledErrors: readonly unknown[]): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but is a failure.
      if (module.state() === 'failed' && tests.length === 0) failed++;
    }
    failed += unhandledErrors.length;

    if (this.before !== undefined) {
      const leaks = leaked(this.before, snapshotKernelObjects());
      if (leaks.length > 0) {
        failed++;
        process.stdout.write(
          `\nleak check failed: the run left named IPC objects behind:\n  ${leaks.join('\n  ')}\n`,
        );
        process.exitCode = 1;
      } else {
        passed++;
        process.stdout.write('\nleak check: /dev/shm, /dev/mqueue and ipcs are as they were\n');
      }
    }
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
