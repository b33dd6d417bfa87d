import { defineConfig } from 'vitest/config';
import { currentGroup } from './mutation.groups.mjs';

/** The tests Stryker runs against the mutants of one group (mutation.groups.mjs). */
const group = currentGroup();

export default defineConfig({
  test: {
    include: group.tests,
    // A throwaway PostgreSQL cluster (as in vitest.config.ts), only for the groups whose tests need one.
    globalSetup: group.postgres ? ['test/support/postgres-setup.ts'] : [],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Serial (pty) tests stay out: serialport's native poller aborts inside Stryker's workers.
    env: { PANELCTL_NO_SERIAL: '1' },
  },
});
