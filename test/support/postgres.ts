import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { pgCtl, type ClusterInfo } from './postgres-cluster.js';

/**
 * What tests use of the run's PostgreSQL cluster (started by test/support/postgres-setup.ts):
 * a fresh database per test file, and a restart for the "database went away" tests.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { cluster?: ClusterInfo; unavailable?: string; installed?: boolean };
  }
}

export const postgres = inject('postgres');

/**
 * Why the PostgreSQL tests cannot run here (printed loudly), or undefined when they can, or must: where PostgreSQL
 * is installed and its cluster did not start, the tests run and fail naming why (cluster() below).
 */
export const postgresMissing: string | undefined = postgres.cluster || postgres.installed ? undefined : (postgres.unavailable ?? 'no cluster was provided');
if (postgresMissing) process.stderr.write(`\n!!!!! SKIPPING PostgreSQL tests: ${postgresMissing}\n\n`);

export function cluster(): ClusterInfo {
  if (!postgres.cluster) throw new Error(`no PostgreSQL test cluster: ${postgresMissing ?? postgres.unavailable}`);
  return postgres.cluster;
}

/** A new, empty database on the test cluster; its URL. */
export async function freshDatabase(prefix = 't'): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: cluster().url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return cluster().url.replace(/\/postgres$/, `/${name}`);
}

/** Stops and starts the server (every connection is cut); resolves when it accepts connections again. */
export async function restartPostgres(): Promise<void> {
  await pgCtl(cluster(), 'restart');
}

export async function stopPostgres(): Promise<void> {
  await pgCtl(cluster(), 'stop');
}

export async function startPostgres(): Promise<void> {
  await pgCtl(cluster(), 'start');
}

/** Runs one query on its own connection. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
