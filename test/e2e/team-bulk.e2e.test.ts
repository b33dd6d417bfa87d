import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';
import { ensureBuilt } from '../bulk/support/build.js';
import { codesOut, modbusFleet, startCli, until, writesToSlot, type ModbusFleet } from '../bulk/support/modbus-fleet.js';

/**
 * Bulk plans across a desk (issue 18 item 5), through the binary against Modbus simulators: the
 * journal and claims of a plan live in the shared store, so a shard killed on one machine resumes
 * on another (a second state dir, the same database) without repeating a write, and an apply of
 * the plan on one machine refuses to run beside an overlapping one on another.
 */

beforeAll(ensureBuilt, 120_000);

let fleet: ModbusFleet | undefined;
let other: Sandbox | undefined;
afterEach(async () => {
  await fleet?.close();
  await other?.cleanup();
  fleet = undefined;
  other = undefined;
});

async function desk(count: number): Promise<{ fleet: ModbusFleet; other: Sandbox; url: string }> {
  const url = await freshDatabase('bulk');
  fleet = await modbusFleet(count, { latencyMs: 60 });
  other = await makeSandbox();
  // The second machine: its own state dir, the same inventory and database.
  await other.writeInventory(await fs.readFile(fleet.sandbox.env.PANELCTL_INVENTORY as string, 'utf8'));
  for (const env of [fleet.sandbox.env, other.env]) env.PANELCTL_STATE = url;
  const migrated = await fleet.sandbox.run(['state', 'migrate']);
  expect(migrated.code, migrated.stderr).toBe(0);
  return { fleet, other, url };
}

async function plan(f: ModbusFleet, changes: string): Promise<{ file: string; id: string }> {
  const csv = path.join(f.sandbox.dir, 'changes.csv');
  await fs.writeFile(csv, changes);
  const file = path.join(f.sandbox.dir, 'plan.json');
  const planned = await f.sandbox.run(['bulk', 'plan', csv, '--out', file, '--all', '-o', 'json']);
  expect(planned.code, planned.stderr).toBe(0);
  return { file, id: JSON.parse(planned.stdout).id };
}

const journalRows = async (url: string, id: string) =>
  sql<{ event: string; panel: string }>(url, 'SELECT event, panel FROM panelctl_journal WHERE plan = $1', [id]);

describe.skipIf(postgresMissing)('bulk plans in the shared store', () => {
  it('a shard killed with -9 on one machine resumes on another, writing each step once', async () => {
    const { fleet, other, url } = await desk(4);
    const { file, id } = await plan(fleet, 'panel,action,slot,code\n*,set-code,2,generate\n*,set-code,3,generate\n');
    const outA = path.join(fleet.sandbox.dir, 'codes-a.csv');
    const first = startCli(fleet.sandbox, ['bulk', 'apply', file, '--shard', '0/1', '--codes-out', outA, '--concurrency', '1']);
    await until(async () => (await journalRows(url, id)).some((r) => r.event === 'done'), first.output);
    first.child.kill('SIGKILL');
    await first.done;
    // Nothing of the plan is in either machine's state dir: the journal is the desk's.
    expect(await fs.readdir(path.join(fleet.sandbox.stateDir, 'bulk')).catch(() => [])).toEqual([]);

    const outB = path.join(other.dir, 'codes-b.csv');
    const resumed = await other.run(['bulk', 'apply', file, '--shard', '0/1', '--resume', '--codes-out', outB, '-o', 'json']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const hows = JSON.parse(resumed.stdout).steps.map((s: { how: string }) => s.how);
    expect(hows).toContain('done earlier');
    for (const [name, sim] of fleet.sims) for (const slot of [2, 3]) expect(writesToSlot(sim, slot), `${name} slot ${slot}`).toBe(1);
    const delivered = new Map([...(await codesOut(outA).catch(() => new Map())), ...(await codesOut(outB))]);
    for (const [name, sim] of fleet.sims)
      for (const slot of [2, 3]) expect(delivered.get(`${name}#${slot}`)?.code, `${name}#${slot}`).toBe(sim.user(slot)?.code);

    // Applied, on any machine: a fresh run on the first one is refused as "applied before".
    const again = await fleet.sandbox.run(['bulk', 'apply', file, '--codes-out', path.join(fleet.sandbox.dir, 'codes-c.csv')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/applied before/);
  }, 120_000);

  it('an unsharded apply on one machine is refused while a shard of the same plan runs on another, naming it', async () => {
    const { fleet, other, url } = await desk(4);
    const { file, id } = await plan(fleet, 'panel,action,slot,code\n*,set-code,2,generate\n*,set-code,3,generate\n*,set-code,4,generate\n');
    const shard0 = startCli(
      fleet.sandbox,
      ['bulk', 'apply', file, '--shard', '0/2', '--codes-out', path.join(fleet.sandbox.dir, 'c0.csv'), '--concurrency', '1'],
      {
        PANELCTL_OPERATOR: 'anna',
      },
    );
    await until(async () => (await journalRows(url, id)).length > 0, shard0.output);
    const unsharded = await other.run(['bulk', 'apply', file, '--resume', '--codes-out', path.join(other.dir, 'cu.csv')]);
    expect(unsharded.code, unsharded.stderr).toBe(4);
    expect(unsharded.stderr).toMatch(new RegExp(`another apply of this plan is running .*--shard 0/2 \\(process ${shard0.child.pid}, on .+, by anna`));
    // A disjoint shard on the second machine runs beside it.
    const shard1 = await other.run(['bulk', 'apply', file, '--shard', '1/2', '--codes-out', path.join(other.dir, 'c1.csv')]);
    expect(shard1.code, shard1.stderr).toBe(0);
    expect((await shard0.done).code, shard0.output()).toBe(0);
    for (const [name, sim] of fleet.sims) for (const slot of [2, 3, 4]) expect(writesToSlot(sim, slot), `${name} slot ${slot}`).toBe(1);
  }, 120_000);
});
