import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Lease } from '../../src/state/leases.js';
import { SCHEMA_VERSION } from '../../src/state/postgres/migrations.js';
import { PgSharedStore } from '../../src/state/postgres/store.js';
import { LIST_LOCKS } from '../../src/state/postgres/work-locks.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';
import { cutSession, HOST, lease, teamDatabase } from '../support/team-store.js';

/**
 * Per-panel work locks of a whole desk (src/state/postgres/work-locks.ts), in process against PostgreSQL: one
 * holder per panel across processes (each store here is one process) and within one, a refused process told who
 * holds it, the panel's lease handed over in the same round trip, the schema checked before anything is locked,
 * and a lock gone with its connection neither listed nor "released" on the next one.
 */
const db = teamDatabase('worklocks');
const holder = (panel: string, extra: object = {}) => ({ panel, command: 'code set', operator: 'anna', ticket: 'T-7', ...extra });
const listed = async () => (await sql<{ key: string; panel: string; pid: number }>(db.url, LIST_LOCKS)).map((r) => r.key);

afterEach(() => vi.restoreAllMocks());

describe.skipIf(postgresMissing)('team work locks', () => {
  it('takes a free panel, records who holds it (listed by `panelctl locks`), and release frees it for another process', async () => {
    const anna = db.open();
    const ben = db.open();
    const lock = await anna.workLocks.acquire('w-1', holder('shop-1'));
    const rows = await sql(db.url, LIST_LOCKS);
    expect(rows.filter((r) => r.key === 'w-1')).toEqual([
      { key: 'w-1', panel: 'shop-1', command: 'code set', operator: 'anna', ticket: 'T-7', host: HOST, pid: process.pid, since: expect.any(Date) },
    ]);
    await lock.release();
    expect(await listed()).not.toContain('w-1');
    expect(await sql(db.url, "SELECT 1 FROM panelctl_work_locks WHERE key = 'w-1'")).toEqual([]);
    const again = await ben.workLocks.acquire('w-1', holder('shop-1', { operator: 'ben' }));
    await again.release();
  });

  it('refuses a panel another process holds, naming the holder from its row, and changes nothing', async () => {
    const anna = db.open();
    const ben = db.open();
    const lock = await anna.workLocks.acquire('w-2', holder('shop-2'));
    const statements = vi.spyOn(ben.db, 'sessionQuery');
    const refused = ben.workLocks.acquire('w-2', holder('shop-2', { operator: 'ben', command: 'test-mode start', ticket: undefined }));
    await expect(refused).rejects.toMatchObject({
      code: 'E_PANEL_LOCKED',
      exitCode: 4,
      data: { holder: { command: 'code set', pid: process.pid, host: HOST, operator: 'anna', ticket: 'T-7', panel: 'shop-2', since: expect.anything() } },
    });
    await expect(refused).rejects.toThrow(`shop-2 is in use by another panelctl: "code set", process ${process.pid}, on ${HOST}, by anna, ticket T-7`);
    // One statement, and no unlock of a lock it never got.
    expect(statements).toHaveBeenCalledTimes(1);
    const [row] = await sql<{ operator: string }>(db.url, "SELECT operator FROM panelctl_work_locks WHERE key = 'w-2'");
    expect(row.operator).toBe('anna');
    await lock.release();
    // Refused, Ben took nothing: the panel is free once Anna lets go.
    const free = await db.open().workLocks.acquire('w-2', holder('shop-2'));
    await free.release();
  });

  it('a holder whose row is missing is still a holder: refused without a name', async () => {
    const anna = db.open();
    const lock = await anna.workLocks.acquire('w-3', holder('shop-3'));
    await sql(db.url, "DELETE FROM panelctl_work_locks WHERE key = 'w-3'");
    await expect(db.open().workLocks.acquire('w-3', holder('shop-3'))).rejects.toMatchObject({
      code: 'E_PANEL_LOCKED',
      message: 'shop-3 is being locked by another panelctl process right now',
    });
    await lock.release();
  });

  it('refuses a panel this same process holds (its session lock would let it in twice), until it is released', async () => {
    const anna = db.open();
    const lock = await anna.workLocks.acquire('w-4', holder('shop-4'));
    await expect(anna.workLocks.acquire('w-4', holder('shop-4'))).rejects.toMatchObject({
      code: 'E_PANEL_LOCKED',
      data: { holder: { pid: process.pid, host: HOST, command: 'this same panelctl process' } },
    });
    await lock.release();
    const again = await anna.workLocks.acquire('w-4', holder('shop-4'));
    await again.release();
  });

  it('a refused acquire in this process leaves the key free to try again', async () => {
    const anna = db.open();
    const ben = db.open();
    const lock = await anna.workLocks.acquire('w-5', holder('shop-5'));
    await expect(ben.workLocks.acquire('w-5', holder('shop-5'))).rejects.toMatchObject({ code: 'E_PANEL_LOCKED' });
    await lock.release();
    const got = await ben.workLocks.acquire('w-5', holder('shop-5'));
    await got.release();
  });

  it("hands over the panel's active lease (with its host) in the same round trip, or nothing; a refused one too", async () => {
    const anna = db.open();
    const onTest = lease('shop-6');
    await anna.leases.write(onTest);
    const seen: Array<Lease | undefined> = [];
    const lock = await anna.workLocks.acquire('w-6', { ...holder('shop-6'), onLease: async (l) => void seen.push(l) });
    await expect(db.open().workLocks.acquire('w-6', { ...holder('shop-6'), onLease: async (l) => void seen.push(l) })).rejects.toMatchObject({
      code: 'E_PANEL_LOCKED',
    });
    const other = await anna.workLocks.acquire('w-6b', { ...holder('shop-6b'), onLease: async (l) => void seen.push(l) });
    expect(seen).toEqual([{ ...onTest, host: HOST }, { ...onTest, host: HOST }, undefined]);
    await lock.release();
    await other.release();
  });

  it('a lease check that refuses (onLease throws) takes no lock', async () => {
    const anna = db.open();
    const refusal = new Error('on test');
    await expect(anna.workLocks.acquire('w-7', { ...holder('shop-7'), onLease: async () => Promise.reject(refusal) })).rejects.toBe(refusal);
    expect(await listed()).not.toContain('w-7');
    // Not held in the process either: the same process may take it now.
    const lock = await anna.workLocks.acquire('w-7', holder('shop-7'));
    await lock.release();
  });

  it('release is once: a second call does not free the lock the same process took again since', async () => {
    const anna = db.open();
    const lock = await anna.workLocks.acquire('w-8', holder('shop-8'));
    await lock.release();
    const again = await anna.workLocks.acquire('w-8', holder('shop-8', { ticket: 'T-8' }));
    await lock.release();
    expect(await listed()).toContain('w-8');
    await expect(db.open().workLocks.acquire('w-8', holder('shop-8'))).rejects.toMatchObject({ code: 'E_PANEL_LOCKED' });
    await again.release();
    expect(await listed()).not.toContain('w-8');
  });

  it("a lock lost with its connection is no longer listed, another process may take it, and its release does not touch the other's", async () => {
    const anna = db.open();
    const ben = db.open();
    const lock = await anna.workLocks.acquire('w-9', holder('shop-9'));
    await cutSession(db.url, anna);
    await anna.db.sessionQuery('SELECT 1');
    expect(await listed()).not.toContain('w-9');
    const bens = await ben.workLocks.acquire('w-9', holder('shop-9', { operator: 'ben' }));
    const query = vi.spyOn(anna.db, 'sessionQuery');
    await lock.release();
    expect(query).not.toHaveBeenCalled();
    const [row] = await sql<{ operator: string }>(db.url, "SELECT operator FROM panelctl_work_locks WHERE key = 'w-9'");
    expect(row.operator).toBe('ben');
    expect(await listed()).toContain('w-9');
    await bens.release();
  });

  it('a release whose statement fails (the database just went away) is no error: the lock went with the connection', async () => {
    const anna = db.open();
    const lock = await anna.workLocks.acquire('w-10', holder('shop-10'));
    vi.spyOn(anna.db, 'sessionQuery').mockRejectedValueOnce(new Error('Connection terminated'));
    await expect(lock.release()).resolves.toBeUndefined();
  });
});

describe.skipIf(postgresMissing)('the schema check in the same statement', () => {
  it('a database without the schema is refused before anything is locked, with no other statement', async () => {
    const empty = new PgSharedStore(await freshDatabase('nolocks'));
    try {
      const statements = vi.spyOn(empty.db, 'sessionQuery');
      await expect(empty.workLocks.acquire('s-1', holder('shop-s1'))).rejects.toMatchObject({
        code: 'E_STATE_SCHEMA',
        message: 'the shared state store has no panelctl schema yet',
      });
      expect(statements).toHaveBeenCalledTimes(1);
    } finally {
      await empty.close();
    }
  });

  it('an older schema is refused, naming both versions, and nothing is locked or recorded', async () => {
    const url = await freshDatabase('oldlocks');
    const store = new PgSharedStore(url);
    try {
      const { migrate } = await import('../../src/state/postgres/migrations.js');
      await migrate(store.db);
      const [newest] = await sql<{ name: string }>(url, 'DELETE FROM panelctl_schema WHERE version = $1 RETURNING name', [SCHEMA_VERSION]);
      await expect(store.workLocks.acquire('s-2', holder('shop-s2'))).rejects.toMatchObject({
        code: 'E_STATE_SCHEMA',
        message: `the shared state store has schema version ${SCHEMA_VERSION - 1}, older than this panelctl's ${SCHEMA_VERSION}`,
      });
      expect(await sql(url, 'SELECT key FROM panelctl_work_locks')).toEqual([]);
      expect(
        await sql(
          url,
          "SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.classid = 1886023781",
        ),
      ).toEqual([]);
      // Back at this panelctl's version, the same process takes the key (the refusal left nothing held in the process).
      await sql(url, 'INSERT INTO panelctl_schema (version, name) VALUES ($1, $2)', [SCHEMA_VERSION, newest.name]);
      const lock = await store.workLocks.acquire('s-2', holder('shop-s2'));
      await lock.release();
    } finally {
      await store.close();
    }
  });

  it('the statement that took a lock stands for the first-use schema check (one round trip before the panel)', async () => {
    const store = db.open();
    expect(store.db.reachedOnce).toBe(false);
    const check = vi.spyOn(store.db, 'rawQuery');
    const lock = await store.workLocks.acquire('s-3', holder('shop-s3'));
    expect(store.db.reachedOnce).toBe(true);
    await store.leases.read('shop-s3');
    expect(check.mock.calls.map(([text]) => text)).not.toContain('SELECT max(version) AS version FROM panelctl_schema');
    await lock.release();
  });

  it('other failures are passed on as they are', async () => {
    const store = db.open();
    const failure = Object.assign(new Error('out of memory'), { code: '53200' });
    vi.spyOn(store.db, 'sessionQuery').mockRejectedValueOnce(failure);
    await expect(store.workLocks.acquire('s-4', holder('shop-s4'))).rejects.toBe(failure);
    vi.restoreAllMocks();
    const lock = await store.workLocks.acquire('s-4', holder('shop-s4'));
    await lock.release();
  });

  it('keeps when the panel last answered for the next holder in another process, on the server\'s clock; a future time is "now"', async () => {
    const anna = db.open();
    const ben = db.open();
    const first = await anna.workLocks.acquire('c-1', holder('map-c1'));
    expect(first.lastContactAt).toBeUndefined();
    await first.release({ lastContactAt: Date.now() - 60_000 });
    const second = await ben.workLocks.acquire('c-1', holder('map-c1'));
    // Sent as "a minute ago" and stamped by the server: read back as at least a minute ago (and not an hour).
    const ago = Date.now() - (second.lastContactAt as number);
    expect(ago).toBeGreaterThanOrEqual(60_000);
    expect(ago).toBeLessThan(3_600_000);
    // A clock stepped back made the answer look an hour ahead: kept as "just now", never as a wait of an hour.
    await second.release({ lastContactAt: Date.now() + 3_600_000 });
    const third = await anna.workLocks.acquire('c-1', holder('map-c1'));
    expect(third.lastContactAt as number).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - (third.lastContactAt as number)).toBeLessThan(60_000);
    // A session that never heard the panel leaves the record as it was.
    await third.release();
    const fourth = await ben.workLocks.acquire('c-1', holder('map-c1'));
    expect(fourth.lastContactAt).toBeDefined();
    await fourth.release();
  });

  it("keeps until when the panel asked to be left alone for the next holder in another process, on the server's clock, without a schema step", async () => {
    const anna = db.open();
    const ben = db.open();
    const first = await anna.workLocks.acquire('q-1', holder('map-q1'));
    expect(first.quietUntil).toBeUndefined();
    await first.release({ lastContactAt: Date.now(), quietUntil: Date.now() + 60_000 });
    const second = await ben.workLocks.acquire('q-1', holder('map-q1'));
    // Sent as "a minute from now" and stamped by the server: read back as at most a minute ahead, and well ahead.
    const left = (second.quietUntil as number) - Date.now();
    expect(left).toBeLessThanOrEqual(60_000);
    expect(left).toBeGreaterThan(30_000);
    expect(second.lastContactAt).toBeDefined();
    // A second row of the contacts table, beside the panel's own (which older panelctl versions read as before).
    expect((await sql<{ key: string }>(db.url, "SELECT key FROM panelctl_panel_contacts WHERE key LIKE '%q-1' ORDER BY key")).map((r) => r.key)).toEqual([
      'q-1',
      'quiet-until q-1',
    ]);
    // A session that never reached the panel and reports the rest of the silence keeps it.
    await second.release({ quietUntil: Date.now() + left });
    const third = await anna.workLocks.acquire('q-1', holder('map-q1'));
    expect(third.quietUntil).toBeDefined();
    // A session that heard the panel outside any silence ends the recorded one.
    await third.release({ lastContactAt: Date.now() });
    const fourth = await ben.workLocks.acquire('q-1', holder('map-q1'));
    expect(fourth.quietUntil).toBeUndefined();
    // A silence already over when the session ends is none.
    await fourth.release({ lastContactAt: Date.now(), quietUntil: Date.now() - 1 });
    const fifth = await anna.workLocks.acquire('q-1', holder('map-q1'));
    expect(fifth.quietUntil).toBeUndefined();
    await fifth.release();
  });
});
