import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Compiles dist/ when a source is newer than the last build (tests spawn the compiled CLI).
    globalSetup: ['test/helpers/build-dist.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests that share Redis or spawn child processes isolate themselves by key prefix / temp dir,
    // so files may run in parallel; two cores make more workers pointless.
    maxWorkers: 2,
    pool: 'forks',
  },
});
