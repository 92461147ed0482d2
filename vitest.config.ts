import { defineConfig } from 'vitest/config';

/**
 * Four projects: `unit` needs no build and runs in seconds (`npx vitest run --project unit`); `stress` feeds the
 * engine files near the size limit, without a build, in minutes (`npx vitest run --project stress`);
 * `integration` and `e2e` run the built CLI, server and editor (`npm test` builds first), against real local
 * servers and Debian's Chromium. Integration and browser tests spawn real processes: give them room on 2 cores.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      // Huge inputs (a 700k-node file): minutes, not seconds, so kept out of `unit`; no build needed.
      { test: { name: 'stress', include: ['test/stress/**/*.test.ts'], testTimeout: 300_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/require-fresh-build.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/require-fresh-build.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
