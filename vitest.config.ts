import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway PostgreSQL cluster per run for the team-mode tests (test/support/postgres-setup.ts).
    globalSetup: ['test/support/postgres-setup.ts'],
    // A test that reaches no expect fails (a test that cannot fail is a defect).
    setupFiles: ['test/support/every-test-asserts.ts'],
    // End-to-end tests spawn the real binary and real simulators; give them room on a shared 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
