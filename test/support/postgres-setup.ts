import type { TestProject } from 'vitest/node';
import { findBindir, startCluster, stopCluster, type ClusterInfo } from './postgres-cluster.js';

/**
 * vitest globalSetup: one PostgreSQL cluster for the whole run, started here and stopped (and its
 * directory removed) when the run ends. On a machine without PostgreSQL, every test that needs it is
 * skipped with the reason printed loudly (test/support/postgres.ts), and the rest of the suite runs.
 * Where it is installed, a cluster that does not start fails those tests instead: skipping them then
 * would let a run pass with the whole team mode untested.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: ClusterInfo | undefined;
  try {
    cluster = await startCluster();
    project.provide('postgres', { cluster });
  } catch (error) {
    const reason = (error as Error).message;
    process.stderr.write(`\n!!!!! PostgreSQL tests will be SKIPPED: the test cluster could not start: ${reason}\n\n`);
    project.provide('postgres', { unavailable: reason, installed: findBindir() !== undefined });
  }
  return async () => {
    if (cluster) await stopCluster(cluster);
  };
}
