import { PanelRefusedError } from '../../core/errors.js';
import type { Lease } from '../leases.js';
import { LOCKED, type LeaseStore } from '../store.js';
import { HOST, type PgConnection } from './connection.js';
import { LOCK_NAMESPACE } from './keys.js';

/**
 * Test-mode leases for a whole desk. A lease row is never deleted: ending it sets ended_at, and
 * the partial unique index (panel WHERE ended_at IS NULL) lets at most one be active per panel,
 * whoever started it and wherever. Start, stop and the sweeper serialise on a session advisory
 * lock per panel, as the files backend does on a lock file.
 */
interface LeaseRow {
  data: Lease;
  host: string;
}

/** The lease a row holds, with the host that wrote it. The row was parsed for this query alone: its object is given the host, not copied (10,000 leases, issue 18). */
const withHost = (row: LeaseRow): Lease => {
  row.data.host = row.host;
  return row.data;
};

export class PgLeases implements LeaseStore {
  private readonly held = new Set<string>();

  constructor(private readonly db: PgConnection) {}

  async read(panel: string): Promise<Lease | undefined> {
    const { rows } = await this.db.query<LeaseRow>('SELECT data, host FROM panelctl_leases WHERE panel = $1 AND ended_at IS NULL', [panel]);
    return rows[0] ? withHost(rows[0]) : undefined;
  }

  async write(lease: Lease): Promise<void> {
    const { host: _shownOnly, ...data } = lease;
    try {
      await this.db.queryThroughOutage(
        `INSERT INTO panelctl_leases (id, panel, operator, host, until, data) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, until = EXCLUDED.until WHERE panelctl_leases.ended_at IS NULL`,
        [lease.id, lease.panel, lease.operator, HOST, lease.until, JSON.stringify(data)],
      );
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      const other = await this.read(lease.panel);
      throw new PanelRefusedError(
        'E_ALREADY_ON_TEST',
        `${lease.panel} is already on test${other ? ` (started by ${other.operator} on ${other.host}, until ${other.until})` : ''}`,
        { hint: `see \`panelctl test-mode status --panel ${lease.panel}\`` },
      );
    }
  }

  async remove(panel: string): Promise<void> {
    await this.db.queryThroughOutage('UPDATE panelctl_leases SET ended_at = now() WHERE panel = $1 AND ended_at IS NULL', [panel]);
  }

  async list(): Promise<Lease[]> {
    const { rows } = await this.db.query<LeaseRow>('SELECT data, host FROM panelctl_leases WHERE ended_at IS NULL ORDER BY until, panel');
    return rows.map(withHost);
  }

  async withLock<T>(panel: string, wait: boolean, work: () => Promise<T>): Promise<T | typeof LOCKED> {
    const end = Date.now() + (wait ? 10_000 : 0);
    for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
      if (!this.held.has(panel)) {
        const { rows } = await this.db.sessionQuery<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE.lease}, hashtext($1)) AS ok`, [panel]);
        if (rows[0].ok) break;
      }
      if (Date.now() >= end) {
        if (!wait) return LOCKED;
        throw new PanelRefusedError('E_LEASE_BUSY', `another panelctl is starting or stopping test mode on ${panel} right now`, {
          hint: 'wait for it to finish, then run `panelctl test-mode status`',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    this.held.add(panel);
    const generation = this.db.sessionGeneration;
    try {
      return await work();
    } finally {
      this.held.delete(panel);
      if (generation === this.db.sessionGeneration) {
        await this.db.sessionQuery(`SELECT pg_advisory_unlock(${LOCK_NAMESPACE.lease}, hashtext($1))`, [panel]).catch(() => undefined);
      }
    }
  }
}
