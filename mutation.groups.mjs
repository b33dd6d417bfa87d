// Mutation testing groups (issue 21): each group mutates the modules that guard codes, proofs and state, and runs
// only the tests that import them, so one group takes a minute or two on two cores. Read by stryker.config.mjs,
// vitest.mutation.config.mjs and scripts/mutation.mjs. Tests that run the compiled dist/ (test/e2e, the bulk
// CLI and resume suites) are left out: dist/ never contains a mutant, so they could not kill one.

/** @type {Record<string, { mutate: string[]; tests: string[]; postgres?: boolean }>} */
export const groups = {
  core: {
    mutate: ['src/core/code-policy.ts', 'src/core/secret.ts'],
    tests: ['test/core/code-policy*.test.ts', 'test/core/secret*.test.ts'],
  },
  integra: {
    mutate: ['drivers/integra/codec.ts', 'drivers/integra/bcd.ts'],
    tests: ['test/drivers/integra/codec*.test.ts', 'test/drivers/integra/bcd*.test.ts', 'test/drivers/integra/simulator.test.ts'],
  },
  dsc: {
    mutate: ['drivers/dsc/codec.ts'],
    tests: ['test/drivers/dsc/codec*.test.ts'],
  },
  modbus: {
    mutate: ['drivers/modbus/rtu.ts', 'drivers/modbus/mbap.ts'],
    tests: ['test/drivers/modbus/codec*.test.ts', 'test/drivers/modbus/fuzz*.test.ts', 'test/drivers/modbus/simulator.test.ts'],
  },
  audit: {
    mutate: ['src/audit/log.ts'],
    tests: ['test/core/audit*.test.ts', 'test/bulk/fleet.test.ts'],
  },
  bulk: {
    // The journal and resume's question to the panel; the resume suites themselves run dist/.
    mutate: ['src/bulk/journal.ts', 'src/bulk/settle.ts'],
    tests: [
      'test/bulk/journal*.test.ts',
      'test/bulk/settle.mutation.test.ts',
      'test/bulk/input.test.ts',
      'test/bulk/fleet.test.ts',
      'test/bulk/faults.test.ts',
    ],
  },
  leases: {
    mutate: ['src/state/leases.ts'],
    tests: ['test/state/leases*.test.ts'],
  },
  locks: {
    // Lock files that die with their process: bulk work locks, bulk claims and test-mode lease locks stand on it.
    mutate: ['src/state/process-lock.ts'],
    tests: ['test/state/process-lock*.test.ts'],
  },
  team: {
    // The desk's shared store (PostgreSQL): lease keeping, per-panel work locks and the sweeper's leadership, all
    // advisory locks that die with their connection. Its tests need the run's throwaway cluster.
    mutate: ['src/state/postgres/leases.ts', 'src/state/postgres/work-locks.ts', 'src/state/postgres/leadership.ts'],
    tests: ['test/state/team-leases.test.ts', 'test/state/team-work-locks.test.ts', 'test/state/team-leadership.test.ts'],
    postgres: true,
  },
  inventory: {
    mutate: ['src/inventory/secrets.ts'],
    tests: ['test/core/inventory*.test.ts', 'test/inventory/secrets*.test.ts'],
  },
  digest: {
    // RFC 7616 digest authentication of the MAP 5000 driver.
    mutate: ['drivers/map5000/digest.ts'],
    tests: ['test/drivers/map5000/protocol.test.ts', 'test/drivers/map5000/digest*.test.ts', 'test/drivers/map5000/client.test.ts'],
  },
  vista: {
    mutate: ['drivers/vista/codec.ts'],
    tests: ['test/drivers/vista/codec*.test.ts', 'test/drivers/vista/simulator.test.ts', 'test/drivers/vista/hostile.test.ts'],
  },
  http: {
    // TLS pinning, the E_TLS sides, deadlines and body bounds of the HTTP(S) transport; the MAP 5000 client runs on it.
    mutate: ['src/transport/http.ts', 'src/transport/tls-files.ts'],
    tests: ['test/transport/http*.test.ts', 'test/drivers/map5000/client.test.ts'],
  },
  claims: {
    // Which bulk run owns which panels: as files, and in team mode through the shared store (PostgreSQL).
    mutate: ['src/bulk/claims.ts'],
    tests: ['test/bulk/claims*.test.ts', 'test/bulk/input.test.ts', 'test/state/bulk-claims-local.test.ts', 'test/state/team-bulk-claims.test.ts'],
    postgres: true,
  },
};

/** The group named by MUTATION_GROUP (set by scripts/mutation.mjs). */
export function currentGroup() {
  const name = process.env.MUTATION_GROUP ?? '';
  const group = groups[name];
  if (!group) throw new Error(`MUTATION_GROUP must be one of ${Object.keys(groups).join(', ')} (got "${name}"); run npm run mutation`);
  return { name, ...group };
}
