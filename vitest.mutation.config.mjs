import { defineConfig } from 'vitest/config';
import { currentGroup } from './mutation.groups.mjs';

/** The tests Stryker runs against the mutants of one group (mutation.groups.mjs). */
export default defineConfig({
  test: {
    include: currentGroup().tests,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Serial (pty) tests stay out: serialport's native poller aborts inside Stryker's workers.
    env: { PANELCTL_NO_SERIAL: '1' },
  },
});
