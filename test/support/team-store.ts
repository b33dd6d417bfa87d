import { afterAll, beforeAll } from 'vitest';
import { HOST } from '../../src/state/postgres/connection.js';
import { migrate } from '../../src/state/postgres/migrations.js';
import { PgSharedStore } from '../../src/state/postgres/store.js';
import type { Lease } from '../../src/state/leases.js';
import { freshDatabase, postgresMissing, sql } from './postgres.js';

/**
 * In-process tests of the team store's modules (src/state/postgres) against the run's PostgreSQL
 * cluster: one migrated database per test file, and as many stores (each one "panelctl process",
 * with its own session connection) as a test opens. Closed after the file.
 */
export function teamDatabase(prefix: string): { readonly url: string; open(): PgSharedStore } {
  const opened: PgSharedStore[] = [];
  const current = {
    url: '',
    open() {
      const store = new PgSharedStore(current.url);
      opened.push(store);
      return store;
    },
  };
  beforeAll(async () => {
    if (postgresMissing) return;
    current.url = await freshDatabase(prefix);
    const first = current.open();
    await migrate(first.db);
  });
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  return current;
}

/** Cuts a store's session connection from the server side (as a database restart or a network cut would). */
export async function cutSession(url: string, store: PgSharedStore): Promise<void> {
  const client = await store.db.sessionClient();
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const lost = new Promise<void>((resolve) => store.db.onLost(resolve));
  await sql(url, 'SELECT pg_terminate_backend($1)', [rows[0].pid]);
  await lost;
}

/** A lease as `test-mode start` leaves it. */
export function lease(panel: string, extra: Partial<Lease> = {}): Lease {
  return {
    v: 1,
    id: `${panel}-${Math.random().toString(36).slice(2)}`,
    panel,
    driver: 'integra',
    from: new Date(Date.now() - 60_000).toISOString(),
    until: new Date(Date.now() + 3_600_000).toISOString(),
    operator: 'anna',
    station: 'none',
    stationOnTest: false,
    panelTest: 'on',
    phase: 'active',
    ...extra,
  };
}

export { HOST };
