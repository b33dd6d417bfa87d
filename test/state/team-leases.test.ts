import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PgSharedStore } from '../../src/state/postgres/store.js';
import { LOCKED } from '../../src/state/store.js';
import { ownClock } from '../support/own-clock.js';
import { postgresMissing, sql } from '../support/postgres.js';
import { cutSession, HOST, lease, teamDatabase } from '../support/team-store.js';

/**
 * Test-mode leases of a whole desk (src/state/postgres/leases.ts), in process against PostgreSQL: at most one
 * active lease per panel whoever starts it, an ended lease stays as a record and cannot be revived, and start,
 * stop and the sweeper serialise on one advisory lock per panel across processes (each store here is one process).
 */
const db = teamDatabase('leases');

describe.skipIf(postgresMissing)('team leases', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads back what was written, with the host that wrote it; nothing for a panel without one', async () => {
    const store = db.open();
    const written = lease('read-1', { ticket: 'T-1' });
    await store.leases.write(written);
    expect(await store.leases.read('read-1')).toEqual({ ...written, host: HOST });
    expect(await store.leases.read('read-none')).toBeUndefined();
  });

  it("the host is the store's to say: a lease's own host field is not stored", async () => {
    const store = db.open();
    await store.leases.write({ ...lease('host-1'), host: 'somewhere-else' });
    const [row] = await sql<{ host: string; data: object }>(db.url, "SELECT host, data FROM panelctl_leases WHERE panel = 'host-1'");
    expect(row.host).toBe(HOST);
    expect(row.data).not.toHaveProperty('host');
  });

  it('writing the same lease again updates it (its data and until) while it is active', async () => {
    const store = db.open();
    const first = lease('update-1');
    await store.leases.write(first);
    const later = { ...first, until: new Date(Date.now() + 7_200_000).toISOString(), phase: 'stopping' as const };
    await store.leases.write(later);
    expect(await store.leases.read('update-1')).toEqual({ ...later, host: HOST });
    const [row] = await sql<{ until: Date }>(db.url, "SELECT until FROM panelctl_leases WHERE panel = 'update-1'");
    expect(row.until.toISOString()).toBe(later.until);
  });

  it('a second lease on a panel already on test is refused, naming who started the first, and changes nothing', async () => {
    const anna = db.open();
    const ben = db.open();
    const first = lease('busy-1', { operator: 'anna' });
    await anna.leases.write(first);
    const refused = ben.leases.write(lease('busy-1', { operator: 'ben' }));
    await expect(refused).rejects.toMatchObject({ code: 'E_ALREADY_ON_TEST', exitCode: 3 });
    await expect(refused).rejects.toThrow(`busy-1 is already on test (started by anna on ${HOST}, until ${first.until})`);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining('panelctl test-mode status --panel busy-1') });
    expect((await ben.leases.read('busy-1'))?.id).toBe(first.id);
  });

  it('a refusal whose other lease ended meanwhile still refuses, without naming anyone', async () => {
    const anna = db.open();
    const ben = db.open();
    await anna.leases.write(lease('busy-2'));
    vi.spyOn(ben.leases, 'read').mockResolvedValueOnce(undefined);
    await expect(ben.leases.write(lease('busy-2'))).rejects.toMatchObject({ code: 'E_ALREADY_ON_TEST', message: 'busy-2 is already on test' });
  });

  it('other failures of a write are passed on as they are', async () => {
    const store = db.open();
    await expect(store.leases.write({ ...lease('bad-1'), until: 'not a time' })).rejects.toMatchObject({ code: '22007' });
  });

  it('ending a lease keeps its row as a record; it is no longer read or listed, cannot be written again, and a new one may start', async () => {
    const store = db.open();
    const ended = lease('end-1');
    await store.leases.write(ended);
    await store.leases.remove('end-1');
    expect(await store.leases.read('end-1')).toBeUndefined();
    expect((await store.leases.list()).map((l) => l.panel)).not.toContain('end-1');
    await store.leases.write({ ...ended, phase: 'stopping' });
    expect(await store.leases.read('end-1')).toBeUndefined();
    const rows = await sql<{ ended: boolean; phase: string }>(
      db.url,
      "SELECT ended_at IS NOT NULL AS ended, data->>'phase' AS phase FROM panelctl_leases WHERE panel = 'end-1'",
    );
    expect(rows).toEqual([{ ended: true, phase: 'active' }]);
    const next = lease('end-1');
    await store.leases.write(next);
    expect((await store.leases.read('end-1'))?.id).toBe(next.id);
  });

  it('lists the active leases by end time, then panel', async () => {
    const store = db.open();
    await sql(db.url, 'UPDATE panelctl_leases SET ended_at = now() WHERE ended_at IS NULL');
    const base = Date.now();
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    for (const [panel, minutes] of [
      ['list-c', 5],
      ['list-b', 10],
      ['list-a', 10],
      ['list-d', 1],
    ] as const)
      await store.leases.write(lease(panel, { until: at(minutes) }));
    expect((await store.leases.list()).map((l) => [l.panel, l.host])).toEqual([
      ['list-d', HOST],
      ['list-c', HOST],
      ['list-a', HOST],
      ['list-b', HOST],
    ]);
  });
});

/** Holds the panel's lease lock in `store` until `leave()`; `held` settles with 'held' once it is let go. */
async function holding(store: PgSharedStore, panel: string): Promise<{ leave: () => void; held: Promise<unknown> }> {
  let leave!: () => void;
  let inside!: () => void;
  const entered = new Promise<void>((resolve) => (inside = resolve));
  const held = store.leases.withLock(panel, false, () => {
    inside();
    return new Promise<string>((resolve) => (leave = () => resolve('held')));
  });
  await entered;
  return { leave, held };
}

describe.skipIf(postgresMissing)('the per-panel lease lock', () => {
  afterEach(() => vi.restoreAllMocks());

  it('runs the work and gives its result, then frees the panel for another process', async () => {
    const anna = db.open();
    const ben = db.open();
    expect(await anna.leases.withLock('lock-1', false, async () => 'done')).toBe('done');
    expect(await ben.leases.withLock('lock-1', false, async () => 'ben too')).toBe('ben too');
  });

  it('frees the panel when the work fails', async () => {
    const anna = db.open();
    const ben = db.open();
    await expect(anna.leases.withLock('lock-2', false, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await ben.leases.withLock('lock-2', false, async () => 'free')).toBe('free');
  });

  it('another process gives up at once without waiting, or after waiting refuses with E_LEASE_BUSY', async () => {
    const anna = db.open();
    const ben = db.open();
    const { leave, held } = await holding(anna, 'lock-3');
    let ran = false;
    await ben.db.sessionQuery('SELECT 1'); // connected first: connecting has timers of its own
    const pauses = ownClock();
    expect(
      await ben.leases.withLock('lock-3', false, async () => {
        ran = true;
      }),
    ).toBe(LOCKED);
    // Not waiting means not one pause.
    expect(pauses).toEqual([]);
    const waited = ben.leases.withLock('lock-3', true, async () => {
      ran = true;
    });
    await expect(waited).rejects.toMatchObject({
      code: 'E_LEASE_BUSY',
      exitCode: 3,
      message: 'another panelctl is starting or stopping test mode on lock-3 right now',
      hint: 'wait for it to finish, then run `panelctl test-mode status`',
    });
    vi.restoreAllMocks();
    expect(ran).toBe(false);
    // Backing off from 25 ms to 400 ms, for ten seconds and not a pause more.
    expect(pauses.slice(0, 6)).toEqual([25, 50, 100, 200, 400, 400]);
    expect(pauses.slice(4).every((ms) => ms === 400)).toBe(true);
    const waitedMs = pauses.reduce((a, b) => a + b, 0);
    expect(waitedMs).toBeGreaterThanOrEqual(10_000);
    expect(waitedMs - 400).toBeLessThan(10_000);
    leave();
    expect(await held).toBe('held');
  });

  it('a waiting process takes the panel as soon as the holder lets go', async () => {
    const anna = db.open();
    const ben = db.open();
    const { leave, held } = await holding(anna, 'lock-4');
    const order: string[] = [];
    const waiting = ben.leases.withLock('lock-4', true, async () => order.push('ben'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    order.push('anna leaves');
    leave();
    await held;
    await waiting;
    expect(order).toEqual(['anna leaves', 'ben']);
  });

  it('the same process is held off too (a session advisory lock would let it in twice)', async () => {
    const anna = db.open();
    let inner: unknown;
    await anna.leases.withLock('lock-5', false, async () => {
      inner = await anna.leases.withLock('lock-5', false, async () => 'twice');
    });
    expect(inner).toBe(LOCKED);
    expect(await anna.leases.withLock('lock-5', false, async () => 'after')).toBe('after');
  });

  it("a lock lost with its connection is not released on the new one (that would free another process's lock)", async () => {
    const anna = db.open();
    const ben = db.open();
    let benResult: unknown;
    let unlocks: ReturnType<typeof vi.spyOn> | undefined;
    await anna.leases.withLock('lock-6', false, async () => {
      await cutSession(db.url, anna);
      // Anna's lock went with her connection: Ben takes the panel, and holds it while Anna finishes.
      benResult = await ben.leases.withLock('lock-6', false, async () => {
        await anna.db.sessionQuery('SELECT 1');
        return 'ben';
      });
      unlocks = vi.spyOn(anna.db, 'sessionQuery');
    });
    // No unlock is sent on Anna's new connection: it holds nothing there.
    expect(unlocks?.mock.calls).toEqual([]);
    expect(benResult).toBe('ben');
    // Anna's finish did not unlock anything on her new connection: her own lock there is still re-entrant-free.
    const [locks] = await sql<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 1886023782",
    );
    expect(locks.n).toBe(0);
  });

  it("releasing unlocks the panel's advisory lock on the server, not only in the process", async () => {
    const anna = db.open();
    await anna.leases.withLock('lock-7', false, async () => {
      const [inside] = await sql<{ n: number }>(
        db.url,
        "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 1886023782 AND granted",
      );
      expect(inside.n).toBe(1);
    });
    const [after] = await sql<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 1886023782 AND granted",
    );
    expect(after.n).toBe(0);
  });
});
