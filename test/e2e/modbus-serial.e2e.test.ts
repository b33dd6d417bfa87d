import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { haveSocat, makePtyPair, type PtyPair } from '../support/pty-pair.js';
import { startSerialSim, type SerialSim } from '../support/serial-sim.js';
import { haveMbpoll, mbpoll } from '../drivers/modbus/support.js';

/**
 * On site with a Modbus RTU device: `panelctl sim modbus --serial` on one end of a pseudo-terminal
 * pair (standing in for the device's RS-485 port), the real panelctl binary on the other.
 */
describe.skipIf(!haveSocat)('Modbus RTU over a real serial line (9600 8E1)', () => {
  let sandbox: Sandbox;
  let pty: PtyPair;
  let sim: SerialSim | undefined;
  let statePath: string;
  const state = async () => JSON.parse(await fs.readFile(statePath, 'utf8'));

  beforeAll(async () => {
    sandbox = await makeSandbox();
    pty = await makePtyPair();
    statePath = path.join(sandbox.dir, 'device.json');
    sim = await startSerialSim('modbus', pty.a, ['--state', statePath, '--users', '4'], sandbox.env);
    await sandbox.writeInventory(
      [
        'panels:',
        '  door:',
        '    driver: modbus',
        `    link: serial://${pty.b}?baud=9600&parity=even`,
        '    options: { profile: demo-modbus, unit: 1 }',
        '  door-unit-5:',
        '    driver: modbus',
        `    link: serial://${pty.b}`,
        '    options: { profile: demo-modbus, unit: 5 }',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    // The simulator saves its state as it stops: wait for it before removing the sandbox.
    await sim?.stop();
    await pty?.close();
    await sandbox?.cleanup();
  });

  it('lists, adds, changes a code and removes, each verified, over the serial line', async () => {
    const list = await sandbox.run(['users', 'list', '--panel', 'door', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).users.map((u: { slot: number }) => u.slot)).toEqual([1, 2, 3, 4]);

    const add = await sandbox.run(['users', 'add', '--panel', 'door', '--slot', '9', '--name', 'Technician', '--code-stdin', '-o', 'json'], {
      input: '850371\n',
    });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout).verified).toBe(true);
    expect((await state()).users['9']).toMatchObject({ name: 'Technician', code: '850371' });

    const change = await sandbox.run(['users', 'set-code', '--panel', 'door', '--slot', '9', '--code-stdin'], { input: '936152\n' });
    expect(change.code, change.stderr).toBe(0);
    expect((await state()).users['9']).toMatchObject({ name: 'Technician', code: '936152' });

    const remove = await sandbox.run(['users', 'remove', '--panel', 'door', '--slot', '9', '--yes']);
    expect(remove.code, remove.stderr).toBe(0);
    expect((await state()).users['9']).toBeUndefined();

    const everything = [list, add, change, remove].map((r) => r.stdout + r.stderr).join('') + (await sandbox.allWrittenText());
    for (const code of ['850371', '936152']) expect(everything).not.toContain(code);
  });

  it('a unit id nobody on the line answers to: exit 4, naming the unit id and the line settings', async () => {
    const result = await sandbox.run(['--timeout', '600ms', 'users', 'list', '--panel', 'door-unit-5']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/no answer from Modbus unit 5 within 600 ms \(serial:\/\/\/dev\/pts\/\d+\)/);
    expect(result.stderr).toMatch(/options.unit, now 5.*9600 8E1/);
  });

  it.skipIf(!haveMbpoll)('the served device is a standard Modbus RTU server: mbpoll reads what panelctl wrote', async () => {
    const add = await sandbox.run(['users', 'add', '--panel', 'door', '--slot', '12', '--name', 'Porter', '--code-stdin'], { input: '570394\n' });
    expect(add.code, add.stderr).toBe(0);
    const read = await mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'even', '-a', '1', '-r', String(1000 + 11 * 16), '-c', '13', '-t', '4:hex', '-o', '1', pty.b]);
    expect(read.code, read.output).toBe(0);
    const base = 1000 + 11 * 16;
    expect(read.values.get(base)).toBe(0b111);
    expect([read.values.get(base + 3), read.values.get(base + 4), read.values.get(base + 5)]).toEqual([0x506f, 0x7274, 0x6572]); // "Porter"
    expect([read.values.get(base + 11), read.values.get(base + 12)]).toEqual([0x5703, 0x94ff]); // BCD, F padded
  });

  it('probe finds Modbus RTU on the line (after INTEGRA and DSC stay silent) without writing', async () => {
    const before = (await state()).users;
    const result = await sandbox.run(['--timeout', '1s', 'probe', `serial://${pty.b}`, '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.answered).toMatchObject({ driver: 'modbus', model: 'PCX-1000 (profile demo-modbus, unit 1)' });
    expect(doc.answered.link).toMatch(/baud=9600&parity=even/);
    expect((await state()).users).toEqual(before);
  });
});
