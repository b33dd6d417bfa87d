import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';
import { startStation, type FakeStation } from '../support/station.js';
import { shopEnv, shopInventory } from '../support/team-shop.js';

/**
 * Leases and the audit log shared by a desk (issue 18 items 1 and 4), and what happens when the
 * database is down: two engineers (two state dirs) see each other's tests and entries, with host;
 * when the store cannot be reached, commands that change panels refuse (exit 4) and read-only
 * ones answer from this machine, saying the shared view is missing.
 */

let url: string;
let station: FakeStation;
let sim: Awaited<ReturnType<typeof createSimulator>>;
let server: TcpServerHandle;
let anna: Sandbox;
let bob: Sandbox;

const inventory = () => shopInventory(station, server.port);
const env = (who: string, state = url) => shopEnv(station, state, who);
const DOWN = 'postgres://postgres@127.0.0.1:1/panelctl';

describe.skipIf(postgresMissing)('leases and audit shared by a desk', () => {
  beforeAll(async () => {
    url = await freshDatabase('leases');
    station = await startStation();
    sim = await createSimulator({ users: 8 });
    server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
    anna = await makeSandbox();
    bob = await makeSandbox();
    await anna.writeInventory(inventory());
    await bob.writeInventory(inventory());
    const migrate = await anna.run(['state', 'migrate'], { env: env('anna') });
    expect(migrate.code, migrate.stderr).toBe(0);
  });

  afterAll(async () => {
    await server?.close();
    await sim?.close();
    await station?.close();
    await anna?.cleanup();
    await bob?.cleanup();
  });

  it("one engineer's test is the whole desk's: the other sees it with who and from where, is warned, and cannot start a second", async () => {
    const start = await anna.run(['test-mode', 'start', '--panel', 'bergen-shop', '--for', '45m', '--ticket', 'T-77'], { env: env('anna') });
    expect(start.code, start.stderr).toBe(0);

    const status = await bob.run(['test-mode', 'status', '-o', 'json'], { env: env('bob') });
    expect(status.code, status.stderr).toBe(0);
    const [lease] = JSON.parse(status.stdout).leases;
    expect(lease).toMatchObject({ panel: 'bergen-shop', operator: 'anna', ticket: 'T-77', host: expect.any(String), account: '4711' });
    const table = await bob.run(['test-mode', 'status'], { env: env('bob') });
    expect(table.stdout).toMatch(/HOST/);
    expect(table.stdout).toContain(lease.host);

    const list = await bob.run(['users', 'list', '--panel', 'bergen-shop'], { env: env('bob') });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toMatch(new RegExp(`bergen-shop is ON TEST until .* \\(anna on ${lease.host}, ticket T-77\\)`));

    const second = await bob.run(['test-mode', 'start', '--panel', 'bergen-shop', '--for', '10m'], { env: env('bob') });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/already on test/);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM panelctl_leases WHERE ended_at IS NULL')).toEqual([{ n: 1 }]);
    expect(station.notices.map((n) => n.event)).toEqual(['test.start']);

    // Bob ends Anna's test: the lease row stays as history, ended.
    const stop = await bob.run(['test-mode', 'stop', '--panel', 'bergen-shop'], { env: env('bob') });
    expect(stop.code, stop.stderr).toBe(0);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM panelctl_leases WHERE ended_at IS NOT NULL')).toEqual([{ n: 1 }]);
    expect(JSON.parse((await anna.run(['test-mode', 'status', '-o', 'json'], { env: env('anna') })).stdout).leases).toEqual([]);
  });

  it('the audit log is one chain for the desk, filtered by panel, operator and time in the database, with host, never a code', async () => {
    const set = await anna.run(['users', 'set-code', '--panel', 'bergen-shop', '--slot', '3', '--code-stdin'], { env: env('anna'), input: '583920\n' });
    expect(set.code, set.stderr).toBe(0);
    const all = JSON.parse((await bob.run(['audit', 'show', '-o', 'json'], { env: env('bob') })).stdout).entries;
    expect(all.map((e: { operator: string; action: string }) => `${e.operator} ${e.action}`)).toEqual([
      'anna test-mode.start',
      'bob test-mode.stop',
      'anna users.set-code',
    ]);
    expect(all.every((e: { host?: string }) => typeof e.host === 'string' && e.host.length > 0)).toBe(true);

    const bobs = JSON.parse((await bob.run(['--operator', 'bob', 'audit', 'show', '-o', 'json'], { env: env('bob') })).stdout).entries;
    expect(bobs.map((e: { action: string }) => e.action)).toEqual(['test-mode.stop']);
    const onPanel = JSON.parse((await bob.run(['audit', 'show', '--panel', 'bergen-shop', '--limit', '1', '-o', 'json'], { env: env('bob') })).stdout).entries;
    expect(onPanel.map((e: { action: string }) => e.action)).toEqual(['users.set-code']);
    const future = JSON.parse((await bob.run(['audit', 'show', '--since', '2099-01-01', '-o', 'json'], { env: env('bob') })).stdout).entries;
    expect(future).toEqual([]);

    const verify = await bob.run(['audit', 'verify', '-o', 'json'], { env: env('bob') });
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ entries: 3, intact: true });
    const rows = JSON.stringify(await sql(url, 'SELECT * FROM panelctl_audit'));
    expect(rows).not.toContain('583920');

    // Append-only: the database itself refuses to change or remove an entry.
    await expect(sql(url, "UPDATE panelctl_audit SET operator = 'mallory' WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(sql(url, 'DELETE FROM panelctl_audit WHERE seq = 3')).rejects.toThrow(/append-only/);
  });

  it('a cut-off end of the log shows in verify (the signed head names the last entry)', async () => {
    const before = JSON.parse((await bob.run(['audit', 'verify', '-o', 'json'], { env: env('bob') })).stdout).entries;
    await sql(url, 'ALTER TABLE panelctl_audit DISABLE TRIGGER panelctl_audit_no_update');
    try {
      await sql(url, 'DELETE FROM panelctl_audit WHERE seq = (SELECT max(seq) FROM panelctl_audit)');
    } finally {
      await sql(url, 'ALTER TABLE panelctl_audit ENABLE TRIGGER panelctl_audit_no_update');
    }
    const verify = await bob.run(['audit', 'verify', '-o', 'json'], { env: env('bob') });
    expect(verify.code).toBe(5);
    expect(JSON.parse(verify.stdout).problems[0].problem).toMatch(new RegExp(`ends at entry ${before - 1} but the signed head says ${before}`));
  });

  it('database down: changing a panel is refused with exit 4 and a clear message; read-only commands answer and say the shared view is missing', async () => {
    const set = await bob.run(['users', 'set-code', '--panel', 'bergen-shop', '--slot', '4', '--code-stdin'], { env: env('bob', DOWN), input: '583921\n' });
    expect(set.code).toBe(4);
    expect(set.stderr).toMatch(/the shared state store postgres:\/\/postgres@127\.0\.0\.1:1\/panelctl cannot be reached/);
    expect(set.stderr).toMatch(/does not change panels without the shared lock/);
    expect(sim.state.users[4]?.code).not.toBe('583921');

    const start = await bob.run(['test-mode', 'start', '--panel', 'bergen-shop', '--for', '10m'], { env: env('bob', DOWN) });
    expect(start.code).toBe(4);
    expect(station.notices.filter((n) => n.event === 'test.start')).toHaveLength(1);

    for (const args of [['test-mode', 'status'], ['audit', 'show'], ['locks'], ['users', 'list', '--panel', 'bergen-shop']]) {
      const read = await bob.run(args, { env: env('bob', DOWN) });
      expect(read.code, `${args.join(' ')}: ${read.stderr}`).toBe(0);
      expect(read.stderr, args.join(' ')).toMatch(/shared view missing: the shared state store .* cannot be reached/);
    }
  });
});
