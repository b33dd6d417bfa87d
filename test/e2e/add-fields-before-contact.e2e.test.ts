import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator as createIntegra } from '../../drivers/integra/simulator.js';
import { createSimulator as createModbus } from '../../drivers/modbus/simulator.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { expectRefused } from '../support/refused.js';
import { servedSimulators } from '../support/served.js';

/**
 * `users add --partitions` and `--type` are checked against what the panel's description says, before the panel
 * is contacted: whether a Modbus profile has partitions or user types at all, which types it names and how many
 * partitions it has, and INTEGRA's user types. These were refused only after connecting (the Modbus and INTEGRA
 * sessions' own checks), which broke "exit 2: nothing changed and nothing contacted". The simulators are served
 * on real sockets that count connections; `bulk plan` turns the same rows into conflicts.
 */

const simulators = servedSimulators();
const MASTER = '73918264';
let sandbox: Sandbox;
let modbusPort: number;
let plainPort: number;
let integraPort: number;

/** The demo profile without partitions and user types: a device that keeps a name and a code per slot. */
async function plainProfile(dir: string): Promise<string> {
  const shipped = await fs.readFile(path.join(import.meta.dirname, '../../drivers/modbus/profiles/demo-modbus.yaml'), 'utf8');
  const plain = shipped
    .split('\n')
    .filter((line) => !/^\s+(type|partitions):/.test(line))
    .join('\n');
  const file = path.join(dir, 'plain-device.yaml');
  await fs.writeFile(file, plain);
  return file;
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  modbusPort = await simulators.serve(await createModbus({ users: 3 }));
  const integra = await createIntegra({ users: 3 });
  integra.state.users[241].code = MASTER;
  integraPort = await simulators.serve(integra);
  const profile = await plainProfile(sandbox.dir);
  plainPort = await simulators.serve(await createModbus({ users: 3, options: { profile } }));
  await sandbox.writeInventory(
    [
      'panels:',
      '  gate:',
      '    driver: modbus',
      `    link: tcp://127.0.0.1:${modbusPort}`,
      '    options: { profile: demo-modbus, unit: 1 }',
      '  plain-gate:',
      '    driver: modbus',
      `    link: tcp://127.0.0.1:${plainPort}`,
      `    options: { profile: ${JSON.stringify(profile)}, unit: 1 }`,
      '  lab:',
      '    driver: integra',
      `    link: tcp://127.0.0.1:${integraPort}`,
      '    secret: env:LAB_CODE',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

beforeEach(() => simulators.resetContacts());

const add = (panel: string, ...extra: string[]) =>
  sandbox.run(['users', 'add', '--panel', panel, '--generate', '--reveal', '-y', '-o', 'json', ...extra], { env: { LAB_CODE: MASTER } });

describe('users add: --partitions and --type checked from the description, before the panel is contacted', () => {
  it('Modbus, a profile without partitions or user types: both flags are exit 2 naming the profile, and the device is never contacted', async () => {
    expectRefused(await add('plain-gate', '--slot', '20', '--name', 'Door', '--partitions', '1'), '--partitions', /no partitions \(profile plain-device\)/);
    expectRefused(await add('plain-gate', '--slot', '20', '--name', 'Door', '--type', 'normal'), '--type', /no user types \(profile plain-device\)/);
    expect(simulators.contacts(plainPort)).toBe(0);
  });

  it('Modbus, the demo profile: a type it does not name, or a partition past its count, is exit 2 naming the rule, never contacted', async () => {
    expectRefused(await add('gate', '--slot', '20', '--name', 'Door', '--type', 'janitor'), '--type', /one of normal, duress, supervisor/);
    expectRefused(await add('gate', '--slot', '20', '--name', 'Door', '--partitions', '2,9'), '--partitions', /1\.\.8/);
    expect(simulators.contacts(modbusPort)).toBe(0);
    // What the profile takes is still added (so the refusals above are the profile's rule, not the flags).
    const added = await add('gate', '--slot', '20', '--name', 'Door', '--partitions', '2,8', '--type', 'supervisor');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout).user).toMatchObject({ slot: 20, partitions: [2, 8], type: 'supervisor' });
  });

  it('INTEGRA: a user type it does not have is exit 2 listing its types, and the panel is never contacted', async () => {
    expectRefused(await add('lab', '--slot', '30', '--name', 'Night Guard', '--type', 'janitor'), '--type', /one of normal, single, .*schedule/);
    expect(simulators.contacts(integraPort)).toBe(0);
  });

  it('bulk plan: the same add rows are conflicts saying why, never steps that fail at apply', async () => {
    const changes = path.join(sandbox.dir, 'changes.csv');
    await fs.writeFile(
      changes,
      [
        'panel,action,slot,name,partitions,type,code',
        'plain-gate,add,21,Side Door,1,,generate',
        'plain-gate,add,22,Back Door,,normal,generate',
        'gate,add,23,Cellar,9,,generate',
        'gate,add,24,Loft,,janitor,generate',
        'gate,add,25,Hall,8,duress,generate',
      ].join('\n'),
    );
    const planned = await sandbox.run(['bulk', 'plan', changes, '--out', path.join(sandbox.dir, 'plan.json'), '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const panels = JSON.parse(planned.stdout).panels as Array<{
      panel: string;
      steps: Array<{ row: number }>;
      conflicts: Array<{ row: number; reason: string }>;
    }>;
    const conflicts = panels.flatMap((p) => p.conflicts.map((c) => [c.row, c.reason]));
    expect(conflicts).toEqual([
      [3, expect.stringMatching(/partitions: .*1\.\.8/)],
      [4, expect.stringMatching(/type: .*one of normal, duress, supervisor/)],
      [1, expect.stringMatching(/partitions: .*no partitions/)],
      [2, expect.stringMatching(/type: .*no user types/)],
    ]);
    expect(panels.flatMap((p) => p.steps.map((s) => s.row))).toEqual([5]);
  });

  it('bulk plan: an add row marked duress without a slot is a conflict, not an ordinary user planned in the next free slot', async () => {
    const changes = path.join(sandbox.dir, 'duress-next.csv');
    await fs.writeFile(changes, ['panel,action,slot,name,code,duress', 'lab,add,,Hold Up,generate,true', 'lab,add,,Day Shift,generate,'].join('\n'));
    const planned = await sandbox.run(['bulk', 'plan', changes, '--out', path.join(sandbox.dir, 'duress-plan.json'), '-o', 'json'], {
      env: { LAB_CODE: MASTER },
    });
    expect(planned.code, planned.stderr).toBe(0);
    const [panel] = JSON.parse(planned.stdout).panels;
    expect(panel.conflicts.map((c: { row: number; reason: string }) => [c.row, c.reason])).toEqual([[1, expect.stringMatching(/not a duress slot/)]]);
    expect(panel.steps.map((s: { row: number }) => s.row)).toEqual([2]);
  });
});
