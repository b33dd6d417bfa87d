import { createHash } from 'node:crypto';
import type { Claim } from '../../bulk/claims.js';
import type { JournalEntry } from '../../bulk/journal.js';
import { ownerForThisProcess } from '../process-lock.js';
import type { BulkStore, ClaimRequest } from '../store.js';
import { HOST, type PgConnection } from './connection.js';
import { LOCK_NAMESPACE } from './keys.js';

/**
 * Bulk plans' journals and claims for a desk: a plan's journal is its rows (any shard, any
 * machine), so a shard resumes on whichever machine runs it next; a claim is a row plus a session
 * advisory lock, live exactly while its apply's connection is, and claims of one plan are compared
 * and written under that plan's transaction lock, so two applies anywhere never share a panel.
 */
const LIVE = `EXISTS (
  SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.pid = c.backend_pid
    AND l.classid = ${LOCK_NAMESPACE.claim}::oid AND l.objid = (hashtext(c.token)::bigint & 4294967295)::oid AND l.objsubid = 2)`;

interface ClaimRow {
  token: string;
  shard: string | null;
  panels: string[];
  operator: string | null;
  ticket: string | null;
  command: string | null;
  host: string | null;
  pid: number | null;
  since: Date;
}

const toClaim = (r: ClaimRow): Claim => ({
  token: r.token,
  shard: r.shard,
  panels: r.panels,
  operator: r.operator ?? undefined,
  ticket: r.ticket ?? undefined,
  command: r.command ?? undefined,
  host: r.host ?? '',
  pid: r.pid ?? 0,
  since: new Date(r.since).toISOString(),
});

export class PgBulk implements BulkStore {
  constructor(private readonly db: PgConnection) {}

  async appendJournal(plan: string, shard: string, entries: JournalEntry[]): Promise<void> {
    const rows = entries.map((e) => ({ plan, shard, time: e.time, step: e.step, panel: e.panel, event: e.event, entry: e }));
    await this.db.queryThroughOutage(
      `INSERT INTO panelctl_journal (plan, shard, time, step, panel, event, entry)
       SELECT * FROM json_to_recordset($1::json) AS x(plan text, shard text, time text, step text, panel text, event text, entry json)`,
      [JSON.stringify(rows)],
    );
  }

  /** `state import`: a plan's journal lines from files; each recorded by its content, so importing again adds nothing. */
  async importJournal(plan: string, shard: string, entries: JournalEntry[]): Promise<{ imported: number; already: number }> {
    const rows = entries.map((e) => ({
      source: `journal:${plan}:${createHash('sha256').update(JSON.stringify(e)).digest('hex')}`,
      plan,
      shard,
      time: e.time,
      step: e.step,
      panel: e.panel,
      event: e.event,
      entry: e,
    }));
    const { rows: added } = await this.db.query<{ n: string }>(
      `WITH lines AS (
         SELECT * FROM json_to_recordset($1::json) AS x(source text, plan text, shard text, time text, step text, panel text, event text, entry json)
       ), marked AS (
         INSERT INTO panelctl_imports (source) SELECT source FROM lines ON CONFLICT DO NOTHING RETURNING source
       ), inserted AS (
         INSERT INTO panelctl_journal (plan, shard, time, step, panel, event, entry)
         SELECT l.plan, l.shard, l.time, l.step, l.panel, l.event, l.entry FROM lines l JOIN marked m ON m.source = l.source
         RETURNING 1
       )
       SELECT count(*) AS n FROM inserted`,
      [JSON.stringify(rows)],
    );
    const imported = Number(added[0].n);
    return { imported, already: entries.length - imported };
  }

  async readJournal(plan: string): Promise<JournalEntry[]> {
    const { rows } = await this.db.query<{ entry: JournalEntry }>('SELECT entry FROM panelctl_journal WHERE plan = $1 ORDER BY time, id', [plan]);
    return rows.map((r) => r.entry);
  }

  async plansWithJournals(): Promise<string[]> {
    const { rows } = await this.db.query<{ plan: string }>('SELECT DISTINCT plan FROM panelctl_journal');
    return rows.map((r) => r.plan);
  }

  async liveClaims(plan: string): Promise<Claim[]> {
    const { rows } = await this.db.query<ClaimRow>(`SELECT c.* FROM panelctl_plan_claims c WHERE c.plan = $1 AND ${LIVE} ORDER BY c.since`, [plan]);
    return rows.map(toClaim);
  }

  /**
   * Takes the claim's session lock first (so the row is live as soon as it is visible), then
   * compares and inserts under the plan's lock; `conflict` decides whether a live claim overlaps.
   */
  async claim(plan: string, request: ClaimRequest, conflict: (live: Claim[]) => void): Promise<() => Promise<void>> {
    const mine = ownerForThisProcess({
      command: 'bulk apply',
      operator: request.operator,
      ticket: request.ticket,
      shard: request.shard,
      panels: request.panels,
    });
    const { rows } = await this.db.sessionQuery<{ ok: boolean; backend: number }>(
      `SELECT pg_try_advisory_lock(${LOCK_NAMESPACE.claim}, hashtext($1)) AS ok, pg_backend_pid() AS backend`,
      [mine.token],
    );
    const backend = rows[0].backend;
    const generation = this.db.sessionGeneration;
    const unlock = () =>
      generation === this.db.sessionGeneration
        ? this.db.sessionQuery(`SELECT pg_advisory_unlock(${LOCK_NAMESPACE.claim}, hashtext($1))`, [mine.token]).then(() => undefined)
        : Promise.resolve();
    try {
      await this.db.transaction(async (client) => {
        await client.query(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.planClaims}, hashtext($1))`, [plan]);
        const live = await client.query<ClaimRow>(
          `SELECT c.* FROM panelctl_plan_claims c WHERE c.plan = $1 AND c.panels && $2::text[] AND c.token <> $3 AND ${LIVE} ORDER BY c.since`,
          [plan, request.panels, mine.token],
        );
        conflict(live.rows.map(toClaim));
        // Rows of dead claims are tidied here, under the plan's lock.
        await client.query(`DELETE FROM panelctl_plan_claims c WHERE c.plan = $1 AND NOT ${LIVE}`, [plan]);
        await client.query(
          `INSERT INTO panelctl_plan_claims (token, plan, shard, panels, operator, ticket, command, host, pid, backend_pid)
           VALUES ($1, $2, $3, $4, $5, $6, 'bulk apply', $7, $8, $9)`,
          [mine.token, plan, request.shard, request.panels, request.operator ?? null, request.ticket ?? null, HOST, process.pid, backend],
        );
      });
    } catch (error) {
      await unlock().catch(() => undefined);
      throw error;
    }
    return async () => {
      await this.db.query('DELETE FROM panelctl_plan_claims WHERE token = $1', [mine.token]).catch(() => undefined);
      await unlock().catch(() => undefined);
    };
  }
}
