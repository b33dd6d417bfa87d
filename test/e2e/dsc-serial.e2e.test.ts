import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { haveSocat, makePtyPair, type PtyPair } from '../support/pty-pair.js';
import { startSerialSim, type SerialSim } from '../support/serial-sim.js';

/**
 * On site: `panelctl sim dsc --serial` (IT-100 mode: no login, 070 keys with key breaks) on one end of
 * a pseudo-terminal pair, the real panelctl binary on the other, as a technician's laptop at 9600 8N1.
 */
describe.skipIf(!haveSocat)('DSC over a real serial line (IT-100, 9600 8N1)', () => {
  let sandbox: Sandbox;
  let pty: PtyPair;
  let sim: SerialSim | undefined;
  let statePath: string;
  const MASTER = '620417';
  const state = async () => JSON.parse(await fs.readFile(statePath, 'utf8'));

  beforeAll(async () => {
    sandbox = await makeSandbox();
    pty = await makePtyPair();
    statePath = path.join(sandbox.dir, 'dsc-panel.json');
    sim = await startSerialSim(
      'dsc',
      pty.a,
      ['--state', statePath, '--users', '3', '--set', 'codeLength=6', '--set', `masterCode=${MASTER}`, '--set', 'maxUsers=48'],
      sandbox.env,
    );
    await sandbox.writeInventory(
      `panels:\n  site:\n    driver: dsc\n    link: serial://${pty.b}?baud=9600\n    secret: env:SITE_MASTER\n    options: { codeLength: 6, maxUsers: 48 }\n`,
    );
  });

  afterAll(async () => {
    await sim?.stop();
    await pty?.close();
    await sandbox?.cleanup();
  });

  const run = (args: string[], input?: string) => sandbox.run(args, { input, env: { SITE_MASTER: MASTER } });

  it('lists, adds, changes a code and removes, each verified, over the serial line', async () => {
    const list = await run(['users', 'list', '--panel', 'site', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).users.map((u: { slot: number }) => u.slot)).toEqual([1, 2, 3, 40]);

    const add = await run(['users', 'add', '--panel', 'site', '--slot', '9', '--code-stdin'], '850371\n');
    expect(add.code, add.stderr).toBe(0);
    expect((await state()).codes['9']).toBe('850371');

    const change = await run(['users', 'set-code', '--panel', 'site', '--slot', '9', '--code-stdin'], '936152\n');
    expect(change.code, change.stderr).toBe(0);
    expect((await state()).codes['9']).toBe('936152');

    const remove = await run(['users', 'remove', '--panel', 'site', '--slot', '9', '--yes']);
    expect(remove.code, remove.stderr).toBe(0);
    expect((await state()).codes['9']).toBeUndefined();

    const everything = [list, add, change, remove].map((r) => r.stdout + r.stderr).join('') + (await sandbox.allWrittenText());
    for (const code of ['850371', '936152', MASTER]) expect(everything).not.toContain(code);
  });

  it("probe finds the IT-100 on the line (after the INTEGRA probe's bytes) without writing", async () => {
    const before = (await state()).codes;
    const result = await sandbox.run(['--timeout', '1s', 'probe', `serial://${pty.b}`, '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).answered).toMatchObject({ driver: 'dsc', model: expect.stringMatching(/IT-100/) });
    expect((await state()).codes).toEqual(before);
  });
});
