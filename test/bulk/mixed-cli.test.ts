import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator as createIntegra } from '../../drivers/integra/simulator.js';
import { createSimulator as createDsc } from '../../drivers/dsc/simulator.js';
import { createSimulator as createModbus } from '../../drivers/modbus/simulator.js';
import { servedSimulators } from '../support/served.js';
import { makeSandbox, type CliResult, type Sandbox } from '../support/cli.js';
import { ensureBuilt } from './support/build.js';
import { readCodesCsv } from '../support/codes-csv.js';

/**
 * One change list across the three real drivers, through the binary: INTEGRA (names, BCD codes),
 * DSC (keypad menu, no names: the row's name is not stored) and Modbus (a register profile).
 * Each simulator must end exactly as planned, and a second plan must find nothing left to do.
 */

let sandbox: Sandbox;
const simulators = servedSimulators();
const outputs: CliResult[] = [];
const integra: Array<Awaited<ReturnType<typeof createIntegra>>> = [];
const dsc: Array<Awaited<ReturnType<typeof createDsc>>> = [];
const modbus: Array<Awaited<ReturnType<typeof createModbus>>> = [];
const env: NodeJS.ProcessEnv = {};

const run = async (args: string[]) => {
  const result = await sandbox.run(args, { env, timeoutMs: 60_000 });
  outputs.push(result);
  return result;
};

beforeAll(async () => {
  ensureBuilt();
  sandbox = await makeSandbox();
  const lines = ['panels:'];
  for (let i = 0; i < 2; i++) {
    const sim = await createIntegra({ users: 5 });
    integra.push(sim);
    lines.push(`  integra-${i}: { driver: integra, link: "tcp://127.0.0.1:${await simulators.serve(sim)}", secret: env:INTEGRA_CODE }`);
    env.INTEGRA_CODE = sim.demoSecrets().code;
  }
  for (let i = 0; i < 2; i++) {
    const sim = await createDsc({ users: 5, options: { codeLength: 4 } });
    dsc.push(sim);
    const secrets = sim.demoSecrets();
    env.DSC_MASTER = secrets.code;
    env.DSC_TPI = secrets.tpiPassword;
    lines.push(
      `  dsc-${i}: { driver: dsc, link: "tcp://127.0.0.1:${await simulators.serve(sim)}", secret: env:DSC_MASTER, secrets: { tpiPassword: env:DSC_TPI }, options: { codeLength: 4 } }`,
    );
  }
  for (let i = 0; i < 2; i++) {
    const sim = await createModbus({ users: 5, options: { profile: 'demo-modbus' } });
    modbus.push(sim);
    lines.push(`  modbus-${i}: { driver: modbus, link: "tcp://127.0.0.1:${await simulators.serve(sim)}", options: { profile: demo-modbus, unit: 1 } }`);
  }
  await sandbox.writeInventory(`${lines.join('\n')}\n`);
}, 60_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

describe('bulk across INTEGRA, DSC and Modbus panels', () => {
  it('adds with generated codes and removes on every panel; each simulator ends as planned', async () => {
    const changes = path.join(sandbox.dir, 'changes.csv');
    await fs.writeFile(changes, 'panel,action,slot,name,code\n*,add,30,Branch Manager,generate\n*,remove,4,,\n');
    const plan = path.join(sandbox.dir, 'plan.json');
    const planned = await run(['bulk', 'plan', changes, '--out', plan, '--all', '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(JSON.parse(planned.stdout).totals).toMatchObject({ panels: 6, steps: 12, conflicts: 0 });

    const codesOut = path.join(sandbox.dir, 'codes.csv');
    const applied = await run(['bulk', 'apply', plan, '--codes-out', codesOut, '--concurrency', '6']);
    expect(applied.code, applied.stderr).toBe(0);
    const delivered = new Map((await readCodesCsv(codesOut)).map((fields) => [fields[0], fields]));
    expect(delivered.size).toBe(6);

    integra.forEach((sim, i) => {
      const [, , , code, status] = delivered.get(`integra-${i}`)!;
      expect(status).toBe('applied');
      expect(sim.state.users[30]).toMatchObject({ name: 'Branch Manager', code });
      expect(sim.state.users[4]).toBeUndefined();
    });
    dsc.forEach((sim, i) => {
      const [, , , code, status] = delivered.get(`dsc-${i}`)!;
      expect(status).toBe('applied');
      expect(code).toMatch(/^\d{4}$/); // the panel's code length, not the driver's longest
      expect(sim.state.codes[30]).toBe(code);
      expect(sim.state.codes[4]).toBeUndefined();
      expect(sim.keypadMode).toBe('idle');
    });
    modbus.forEach((sim, i) => {
      const [, , , code, status] = delivered.get(`modbus-${i}`)!;
      expect(status).toBe('applied');
      expect(sim.user(30)).toMatchObject({ name: 'Branch Manager', code });
      expect(sim.user(4)).toBeUndefined();
    });

    // Planned again: nothing left to write. (DSC cannot tell its slot 30 apart without names: a conflict, not a write.)
    const again = await run(['bulk', 'plan', changes, '--out', path.join(sandbox.dir, 'plan-2.json'), '--all', '-o', 'json']);
    const totals = JSON.parse(again.stdout).totals;
    expect(totals.steps).toBe(0);
    expect(totals.conflicts).toBe(2);

    const everything = `${outputs.map((o) => o.stdout + o.stderr).join('\n')}\n${await fs.readFile(plan, 'utf8')}\n${await sandbox.allWrittenText()}`;
    for (const [, , , code] of delivered.values()) expect(everything).not.toMatch(new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`));
  });

  it('refuses partitions on the panels that cannot set them, as users add does, rather than adding the user without them', async () => {
    const changes = path.join(sandbox.dir, 'partitions.csv');
    await fs.writeFile(changes, 'panel,action,slot,name,partitions,code\n*,add,31,Night Guard,1,generate\n');
    const out = path.join(sandbox.dir, 'plan-partitions.json');
    const planned = await run(['bulk', 'plan', changes, '--out', out, '--all', '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const panels: Array<{ panel: string; steps: Array<{ slot: number; partitions?: number[] }>; conflicts: Array<Record<string, unknown>> }> = JSON.parse(
      await fs.readFile(out, 'utf8'),
    ).panels;
    for (const panel of panels.filter((p) => p.panel.startsWith('dsc-'))) {
      expect(panel.steps).toEqual([]);
      expect(panel.conflicts).toEqual([
        expect.objectContaining({
          code: 'E_UNSUPPORTED',
          slot: 31,
          reason: expect.stringMatching(/^partitions: dsc panels take a code in a slot, nothing more/),
        }),
      ]);
    }
    for (const panel of panels.filter((p) => p.panel.startsWith('integra-')))
      expect(panel.steps).toEqual([expect.objectContaining({ slot: 31, partitions: [1] })]);
  });

  it('refuses rows that need names on a panel that keeps none, naming the rule', async () => {
    const changes = path.join(sandbox.dir, 'by-name.csv');
    await fs.writeFile(changes, 'panel,action,user,code\ndsc-0,set-code,Branch Manager,generate\n');
    const planned = await run(['bulk', 'plan', changes, '--out', path.join(sandbox.dir, 'plan-3.json'), '-o', 'json']);
    const panel = JSON.parse(await fs.readFile(path.join(sandbox.dir, 'plan-3.json'), 'utf8')).panels[0];
    expect(planned.code, planned.stderr).toBe(0);
    expect(panel.conflicts).toEqual([
      expect.objectContaining({ code: 'E_NO_NAMES', reason: expect.stringMatching(/dsc panels keep no user names: give the slot/) }),
    ]);
  });
});
