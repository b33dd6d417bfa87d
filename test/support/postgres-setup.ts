import type { TestProject } from 'vitest/node';
import { startCluster, stopCluster, type ClusterInfo } from './postgres-cluster.js';

/**
 * vitest globalSetup: one PostgreSQL cluster for the whole run, started here and stopped (and its
 * directory removed) when the run ends. When it cannot start, every test that needs it is skipped
 * with the reason printed loudly (test/support/postgres.ts), and the rest of the suite runs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: ClusterInfo | undefined;
  try {
    cluster = await startCluster();
    project.provide('postgres', { cluster });
  } catch (error) {
    const reason = (error as Error).message;
    process.stderr.write(`\n!!!!! PostgreSQL tests will be SKIPPED: the test cluster could not start: ${reason}\n\n`);
    project.provide('postgres', { unavailable: reason });
  }
  return async () => {
    if (cluster) await stopCluster(cluster);
  };
}
