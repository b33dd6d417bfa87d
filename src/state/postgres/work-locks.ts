import type { Lease } from '../leases.js';
import { lockedError, type WorkHolder, type WorkLock, type WorkLockStore } from '../work-locks.js';
import { SCHEMA_VERSION, schemaError } from './migrations.js';
import { HOST, type PgConnection } from './connection.js';
import { LOCK_NAMESPACE } from './keys.js';

/**
 * Until when a panel asked to be left alone (PanelSession.quietUntil) is a second row of
 * panelctl_panel_contacts, under the panel's key with this prefix (no panel key starts so: they start with
 * a driver's name or "demo:"). No schema step, so panelctl versions that predate it share the desk's
 * database with this one: they neither read nor write that row.
 */
const QUIET_KEY = `'quiet-until ' || $1`;

/**
 * Per-panel work locks for a whole desk: a session advisory lock (the server ends it when the
 * holder's connection closes, so a killed process never leaves a panel locked) plus a row that
 * says who holds it, for the refused engineer and for `panelctl locks`. Taking the lock, writing the
 * row and reading a refusing holder's row is one statement: one round trip before the panel is contacted.
 */
const ACQUIRE = `
WITH schema AS MATERIALIZED (SELECT max(version) AS version FROM panelctl_schema),
got AS MATERIALIZED (
  SELECT CASE WHEN schema.version = $8 THEN pg_try_advisory_lock(${LOCK_NAMESPACE.work}, hashtext($1)) END AS ok, schema.version FROM schema
),
wrote AS (
  INSERT INTO panelctl_work_locks (key, panel, command, operator, ticket, host, pid, backend_pid, since)
  SELECT $1, $2, $3, $4, $5, $6, $7, pg_backend_pid(), now() FROM got WHERE ok
  ON CONFLICT (key) DO UPDATE SET panel = EXCLUDED.panel, command = EXCLUDED.command, operator = EXCLUDED.operator,
    ticket = EXCLUDED.ticket, host = EXCLUDED.host, pid = EXCLUDED.pid, backend_pid = EXCLUDED.backend_pid, since = EXCLUDED.since
  RETURNING 1
)
SELECT got.ok, got.version,
  (SELECT row_to_json(w) FROM panelctl_work_locks w WHERE w.key = $1 AND NOT got.ok) AS holder,
  (SELECT json_build_object('data', l.data, 'host', l.host) FROM panelctl_leases l WHERE l.panel = $2 AND l.ended_at IS NULL AND got.version = $8) AS lease,
  (SELECT count(*) FROM wrote) AS wrote,
  (SELECT (extract(epoch FROM clock_timestamp() - c.at) * 1000)::float8 FROM panelctl_panel_contacts c WHERE c.key = $1 AND got.ok) AS contact_ago_ms,
  (SELECT (extract(epoch FROM q.at - clock_timestamp()) * 1000)::float8 FROM panelctl_panel_contacts q
    WHERE q.key = ${QUIET_KEY} AND got.ok AND q.at > clock_timestamp()) AS quiet_left_ms
FROM got`;

/**
 * $2: how many ms ago the panel last answered this holder's session (null: no answer to record). Kept as the
 * server's clock minus that, so hosts whose clocks disagree still share one time line.
 * $3: for how many more ms the panel asked to be left alone (PanelSession.quietUntil; null: none; 0 or less: one
 * already over, kept as a time past). Kept as the server's clock plus that, in the same table under the panel's
 * QUIET_KEY; a session that heard the panel outside any silence ends a recorded one that is still ahead (its
 * driver asks for less now).
 */
const RELEASE = `
WITH gone AS (DELETE FROM panelctl_work_locks WHERE key = $1 AND backend_pid = pg_backend_pid() RETURNING 1),
noted AS (
  INSERT INTO panelctl_panel_contacts (key, at)
  SELECT $1, clock_timestamp() - make_interval(secs => $2::float8 / 1000) WHERE $2::float8 IS NOT NULL AND EXISTS (SELECT 1 FROM gone)
  ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at
  RETURNING 1
),
quiet AS (
  INSERT INTO panelctl_panel_contacts (key, at)
  SELECT ${QUIET_KEY}, clock_timestamp() + make_interval(secs => $3::float8 / 1000) WHERE $3::float8 IS NOT NULL AND EXISTS (SELECT 1 FROM gone)
  ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at
  RETURNING 1
),
unquiet AS (
  UPDATE panelctl_panel_contacts SET at = clock_timestamp()
  WHERE key = ${QUIET_KEY} AND at > clock_timestamp() AND $3::float8 IS NULL AND $2::float8 IS NOT NULL AND EXISTS (SELECT 1 FROM gone)
  RETURNING 1
)
SELECT pg_advisory_unlock(${LOCK_NAMESPACE.work}, hashtext($1)) AS released, (SELECT count(*) FROM gone) AS removed,
  (SELECT count(*) FROM noted) + (SELECT count(*) FROM quiet) + (SELECT count(*) FROM unquiet) AS noted`;

/** Locks whose holder still holds them (a row left by a connection that died is not a lock). */
export const LIST_LOCKS = `
SELECT w.key, w.panel, w.command, w.operator, w.ticket, w.host, w.pid, w.since
FROM panelctl_work_locks w
WHERE EXISTS (
  SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.pid = w.backend_pid
    AND l.classid = ${LOCK_NAMESPACE.work}::oid AND l.objid = (hashtext(w.key)::bigint & 4294967295)::oid AND l.objsubid = 2
)
ORDER BY w.since`;

export interface HolderRow {
  key: string;
  panel: string;
  command: string | null;
  operator: string | null;
  ticket: string | null;
  host: string | null;
  pid: number | null;
  since: string;
}

export class PgWorkLocks implements WorkLockStore {
  /** Session advisory locks are re-entrant within a connection: this process's own keys are refused here. */
  private readonly held = new Set<string>();

  constructor(private readonly db: PgConnection) {}

  async acquire(key: string, holder: WorkHolder): Promise<WorkLock> {
    if (this.held.has(key)) throw lockedError(holder.panel, { pid: process.pid, host: HOST, command: 'this same panelctl process' });
    this.held.add(key);
    let taken = false;
    let contactAgo: number | null = null;
    let quietLeft: number | null = null;
    try {
      // One round trip before the panel is contacted: schema check, the panel's lease, the lock and its row.
      const { rows } = await this.db
        .sessionQuery<{
          ok: boolean | null;
          version: number | null;
          holder: HolderRow | null;
          lease: { data: Lease; host: string } | null;
          contact_ago_ms: number | null;
          quiet_left_ms: number | null;
        }>(ACQUIRE, [key, holder.panel, holder.command ?? null, holder.operator ?? null, holder.ticket ?? null, HOST, process.pid, SCHEMA_VERSION], {
          raw: true,
        })
        .catch((error) => {
          if ((error as { code?: string }).code === '42P01') throw schemaError(0);
          throw error;
        });
      if (rows[0].ok === null) throw schemaError(Number(rows[0].version ?? 0));
      taken = rows[0].ok;
      contactAgo = rows[0].contact_ago_ms;
      quietLeft = rows[0].quiet_left_ms;
      this.db.markReady();
      await holder.onLease?.(rows[0].lease ? { ...rows[0].lease.data, host: rows[0].lease.host } : undefined);
      if (!rows[0].ok) {
        const h = rows[0].holder;
        throw lockedError(
          holder.panel,
          h
            ? { pid: h.pid ?? undefined, host: h.host ?? undefined, command: h.command, operator: h.operator, ticket: h.ticket, since: h.since, panel: h.panel }
            : {},
        );
      }
    } catch (error) {
      // Taken, then refused by the lease check: let go, or the panel stays locked while this process lives.
      if (taken) await this.db.sessionQuery(RELEASE, [key, null, null]).catch(() => undefined);
      this.held.delete(key);
      throw error;
    }
    const generation = this.db.sessionGeneration;
    let released = false;
    return {
      lastContactAt: contactAgo === null ? undefined : Date.now() - Math.max(0, contactAgo),
      quietUntil: quietLeft === null ? undefined : Date.now() + quietLeft,
      release: async (note) => {
        if (released) return;
        released = true;
        this.held.delete(key);
        // A replaced connection took its locks with it: nothing to release.
        if (generation !== this.db.sessionGeneration) return;
        // Sent as "ms ago" (the server stamps it on its own clock); a time in the future is "just now".
        const now = Date.now();
        const ago = note?.lastContactAt === undefined ? null : Math.max(0, now - note.lastContactAt);
        // "ms from now" likewise; a silence already over goes in as a time past, which no one reads as ahead.
        const left = note?.quietUntil === undefined ? null : note.quietUntil - now;
        await this.db.sessionQuery(RELEASE, [key, ago, left]).catch(() => undefined);
      },
    };
  }
}
