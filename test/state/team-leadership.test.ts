import { describe, expect, it } from 'vitest';
import { postgresMissing, sql } from '../support/postgres.js';
import { cutSession, teamDatabase } from '../support/team-store.js';

/**
 * The desk sweeper's leadership (src/state/postgres/leadership.ts), in process against PostgreSQL: one leader
 * among processes (each store here is one process), the lead lost with the leader's connection, and a lost lead
 * never "released" on the new connection (that would free whoever leads there).
 */
const db = teamDatabase('leader');
const leaderLocks = async () =>
  (
    await sql<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 1886023784 AND l.granted",
    )
  )[0].n;

describe.skipIf(postgresMissing)('sweep leadership', () => {
  it('one process leads and keeps leading; the others stand by until it releases, then one of them leads', async () => {
    const [a, b, c] = [db.open(), db.open(), db.open()];
    const [la, lb, lc] = [a.sweepLeadership(), b.sweepLeadership(), c.sweepLeadership()];
    expect(await la.lead()).toBe(true);
    expect(await lb.lead()).toBe(false);
    expect(await lc.lead()).toBe(false);
    expect(await la.lead()).toBe(true);
    expect(await leaderLocks()).toBe(1);
    await la.release();
    expect(await leaderLocks()).toBe(0);
    expect(await lb.lead()).toBe(true);
    expect(await la.lead()).toBe(false);
    await lb.release();
  });

  it('the lead is lost with its connection: another process takes it, and the old leader stands by on its new connection', async () => {
    const [a, b] = [db.open(), db.open()];
    const [la, lb] = [a.sweepLeadership(), b.sweepLeadership()];
    expect(await la.lead()).toBe(true);
    await cutSession(db.url, a);
    expect(await lb.lead()).toBe(true);
    expect(await la.lead()).toBe(false);
    // The old leader's release must not free the new leader's lock (it is another session's anyway), nor fail.
    await la.release();
    expect(await leaderLocks()).toBe(1);
    await lb.release();
  });

  it('a leader whose connection was replaced leads again only by taking the lock anew', async () => {
    const a = db.open();
    const la = a.sweepLeadership();
    expect(await la.lead()).toBe(true);
    await cutSession(db.url, a);
    expect(await leaderLocks()).toBe(0);
    expect(await la.lead()).toBe(true);
    expect(await leaderLocks()).toBe(1);
    await la.release();
    expect(await leaderLocks()).toBe(0);
  });

  it('a process that does not lead releases nothing (a second release, or one before leading, is harmless)', async () => {
    const [a, b] = [db.open(), db.open()];
    const [la, lb] = [a.sweepLeadership(), b.sweepLeadership()];
    await lb.release();
    expect(await la.lead()).toBe(true);
    await lb.release();
    expect(await leaderLocks()).toBe(1);
    // The same session holds the lock once: releasing twice must not run a second unlock (it would warn, or free a re-taken lead).
    expect(await la.lead()).toBe(true);
    await la.release();
    await la.release();
    expect(await leaderLocks()).toBe(0);
    // Another sweeper object of the same process (one session, where advisory locks are re-entrant) leads now:
    // a stale release must not free its lead.
    const again = a.sweepLeadership();
    expect(await again.lead()).toBe(true);
    await la.release();
    expect(await leaderLocks()).toBe(1);
    await again.release();
    expect(await lb.lead()).toBe(true);
    await lb.release();
  });

  it('leading is only claimed on the connection that holds the lock: after the connections were closed it is taken anew', async () => {
    const a = db.open();
    const la = a.sweepLeadership();
    expect(await la.lead()).toBe(true);
    await a.db.close();
    expect(await la.lead()).toBe(true);
    expect(await leaderLocks()).toBe(1);
    await la.release();
    expect(await leaderLocks()).toBe(0);
  });

  it('a lead held on a closed connection is not released on the new one, where another sweeper object leads', async () => {
    const a = db.open();
    const la = a.sweepLeadership();
    expect(await la.lead()).toBe(true);
    await a.db.close();
    const again = a.sweepLeadership();
    expect(await again.lead()).toBe(true);
    await la.release();
    expect(await leaderLocks()).toBe(1);
    await again.release();
  });

  it('a lead lost and the connection replaced: release sends nothing on the new connection', async () => {
    const a = db.open();
    const la = a.sweepLeadership();
    expect(await la.lead()).toBe(true);
    await cutSession(db.url, a);
    // Its new connection takes the lead in a second sweeper object of the same process (re-entrant on one session).
    const again = a.sweepLeadership();
    expect(await again.lead()).toBe(true);
    await la.release();
    expect(await leaderLocks()).toBe(1);
    await again.release();
    expect(await leaderLocks()).toBe(0);
  });
});

describe.skipIf(postgresMissing)('a lost lead is told once', () => {
  it('lostLead says once that the lead went with the connection, even when the next lead() takes it again', async () => {
    const a = db.open();
    const la = a.sweepLeadership();
    expect(la.lostLead()).toBe(false);
    expect(await la.lead()).toBe(true);
    expect(la.lostLead()).toBe(false);
    await cutSession(db.url, a);
    expect(la.lostLead()).toBe(true);
    expect(la.lostLead()).toBe(false);
    expect(await la.lead()).toBe(true);
    expect(la.lostLead()).toBe(false);
    await la.release();
  });

  it('a process that did not lead lost nothing when its connection closed', async () => {
    const [a, b] = [db.open(), db.open()];
    const never = b.sweepLeadership();
    const [la, lb] = [a.sweepLeadership(), b.sweepLeadership()];
    expect(await la.lead()).toBe(true);
    expect(await lb.lead()).toBe(false);
    await cutSession(db.url, b);
    expect(lb.lostLead()).toBe(false);
    expect(never.lostLead()).toBe(false);
    await la.release();
  });
});
