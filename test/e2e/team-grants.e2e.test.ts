import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';
import { startStation, type FakeStation } from '../support/station.js';
import { shopEnv, shopInventory } from '../support/team-shop.js';

/**
 * Least privilege for a desk: the tables' owner can switch off the audit log's append-only trigger,
 * so engineers connect as a role that does not own them. `state grants --role` prints what that role
 * needs; with exactly those grants every command works, and the role can neither change nor remove
 * audit entries nor disable the trigger. Without them, the refusal names the missing grant and the fix.
 */

let ownerUrl: string;
let deskUrl: string;
const role = `desk_${randomBytes(4).toString('hex')}`;
let station: FakeStation;
let sim: Awaited<ReturnType<typeof createSimulator>>;
let server: TcpServerHandle;
let engineer: Sandbox;

const inventory = () => shopInventory(station, server.port);
const env = (state = deskUrl) => shopEnv(station, state, 'anna');

describe.skipIf(postgresMissing)('a desk role that does not own the tables', () => {
  beforeAll(async () => {
    ownerUrl = await freshDatabase('grants');
    const url = new URL(ownerUrl);
    url.username = role;
    deskUrl = url.toString();
    station = await startStation();
    sim = await createSimulator({ users: 8 });
    server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
    engineer = await makeSandbox();
    await engineer.writeInventory(inventory());
    const migrate = await engineer.run(['state', 'migrate'], { env: env(ownerUrl) });
    expect(migrate.code, migrate.stderr).toBe(0);
    await sql(ownerUrl, `CREATE ROLE ${role} LOGIN`);
  });

  afterAll(async () => {
    await server?.close();
    await sim?.close();
    await station?.close();
    await engineer?.cleanup();
    if (ownerUrl) await sql(ownerUrl, `DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  });

  it('without the grants a command is refused before the panel is contacted, naming the role and `state grants`', async () => {
    const connectionsBefore = sim.stats.connections;
    const list = await engineer.run(['users', 'list', '--panel', 'bergen-shop', '-o', 'json'], { env: env() });
    expect(list.code, list.stderr).toBe(4);
    const { error } = JSON.parse(list.stderr);
    expect(error.errorCode).toBe('E_STATE_PERMISSION');
    expect(error.message).toContain(`refused role ${role}: permission denied`);
    expect(error.hint).toContain(`panelctl state grants --role ${role}`);
    expect(sim.stats.connections).toBe(connectionsBefore);
  });

  it('with exactly the printed grants, every kind of command works: migrate (nothing to do), codes, test mode, bulk, audit', async () => {
    const grants = await engineer.run(['state', 'grants', '--role', role], { env: {} });
    expect(grants.code, grants.stderr).toBe(0);
    expect(grants.stdout).toContain(`GRANT SELECT, INSERT ON "public".panelctl_audit TO "${role}";`);
    await sql(ownerUrl, grants.stdout);

    const migrate = await engineer.run(['state', 'migrate', '-o', 'json'], { env: env() });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(JSON.parse(migrate.stdout)).toMatchObject({ applied: [] });

    const set = await engineer.run(['users', 'set-code', '--panel', 'bergen-shop', '--slot', '3', '--code-stdin'], { env: env(), input: '583920\n' });
    expect(set.code, set.stderr).toBe(0);
    const start = await engineer.run(['test-mode', 'start', '--panel', 'bergen-shop', '--for', '30m'], { env: env() });
    expect(start.code, start.stderr).toBe(0);
    const stop = await engineer.run(['test-mode', 'stop', '--panel', 'bergen-shop'], { env: env() });
    expect(stop.code, stop.stderr).toBe(0);

    const csv = path.join(engineer.dir, 'changes.csv');
    await fs.writeFile(csv, 'panel,action,slot,code\nbergen-shop,set-code,4,generate\n');
    const planFile = path.join(engineer.dir, 'plan.json');
    const plan = await engineer.run(['bulk', 'plan', csv, '--out', planFile], { env: env() });
    expect(plan.code, plan.stderr).toBe(0);
    const apply = await engineer.run(['bulk', 'apply', planFile, '--codes-out', path.join(engineer.dir, 'codes.csv')], { env: env() });
    expect(apply.code, apply.stderr).toBe(0);

    const verify = await engineer.run(['audit', 'verify', '-o', 'json'], { env: env() });
    expect(verify.code, verify.stderr).toBe(0);
    const actions = JSON.parse((await engineer.run(['audit', 'show', '-o', 'json'], { env: env() })).stdout).entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['users.set-code', 'test-mode.start', 'test-mode.stop']));
    expect(actions.length).toBeGreaterThanOrEqual(4);
  });

  it('the role cannot change, remove or truncate audit entries, nor switch off the trigger that forbids it', async () => {
    await expect(sql(deskUrl, "UPDATE panelctl_audit SET operator = 'mallory'")).rejects.toThrow(/permission denied/);
    await expect(sql(deskUrl, 'DELETE FROM panelctl_audit')).rejects.toThrow(/permission denied/);
    await expect(sql(deskUrl, 'TRUNCATE panelctl_audit')).rejects.toThrow(/permission denied/);
    await expect(sql(deskUrl, 'ALTER TABLE panelctl_audit DISABLE TRIGGER panelctl_audit_no_update')).rejects.toThrow(/must be owner/);
    await expect(sql(deskUrl, 'DELETE FROM panelctl_leases')).rejects.toThrow(/permission denied/);
    expect((await sql<{ n: number }>(ownerUrl, 'SELECT count(*)::int AS n FROM panelctl_audit'))[0].n).toBeGreaterThanOrEqual(4);
  });

  it('a role name that is not a plain identifier is refused, naming the field and the rule', async () => {
    const bad = await engineer.run(['state', 'grants', '--role', 'desk"; DROP TABLE panelctl_audit; --'], { env: {} });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--role: a plain PostgreSQL name');
    expect(bad.stdout).toBe('');
  });
});
