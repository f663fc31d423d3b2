import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run against TypeScript sources: the `@rxipc/source` export condition points each
  // package at `src/` (TOOLCHAIN.md, pitfall 5).
  ssr: { resolve: { conditions: ['@rxipc/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/count-reporter.ts'],
  },
});
