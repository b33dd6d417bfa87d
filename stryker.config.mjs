// Mutation testing of the modules that guard codes, proofs and state (issue 21). Run it with `npm run mutation`,
// which sets MUTATION_GROUP for each group of mutation.groups.mjs in turn and checks the floor.
import { currentGroup } from './mutation.groups.mjs';

const group = currentGroup();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mjs', related: false },
  // Each mutant runs only the tests that reached its code in the first, instrumented run.
  coverageAnalysis: 'perTest',
  mutate: group.mutate,
  // Results are kept per group and committed: a rerun tests only mutants whose code or covering tests changed.
  incremental: true,
  incrementalFile: `mutation/${group.name}.incremental.json`,
  // Two cores shared with other work.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `.stryker/${group.name}.report.json` },
  clearTextReporter: { logTests: false },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The floor is per module and checked by scripts/mutation.mjs; Stryker's own threshold is for the whole group.
  thresholds: { high: 95, low: 90, break: null },
};
