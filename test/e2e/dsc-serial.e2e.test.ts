import { describe, expect, it } from 'vitest';
import { serialPanel } from '../support/serial-sim.js';
import { haveSocat } from '../support/pty-pair.js';

/**
 * On site: `panelctl sim dsc --serial` (IT-100 mode: no login, 070 keys with key breaks) on one end of
 * a pseudo-terminal pair, the real panelctl binary on the other, as a technician's laptop at 9600 8N1.
 */
describe.skipIf(!haveSocat)('DSC over a real serial line (IT-100, 9600 8N1)', () => {
  const MASTER = '620417';
  const site = serialPanel('dsc', {
    stateFile: 'dsc-panel.json',
    simArgs: ['--users', '3', '--set', 'codeLength=6', '--set', `masterCode=${MASTER}`, '--set', 'maxUsers=48'],
    inventory: (device) =>
      `panels:\n  site:\n    driver: dsc\n    link: serial://${device}?baud=9600\n    secret: env:SITE_MASTER\n    options: { codeLength: 6, maxUsers: 48 }\n`,
    env: { SITE_MASTER: MASTER },
  });
  const { run, state } = site;

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

    const everything = [list, add, change, remove].map((r) => r.stdout + r.stderr).join('') + (await site.sandbox.allWrittenText());
    for (const code of ['850371', '936152', MASTER]) expect(everything).not.toContain(code);
  });

  it("probe finds the IT-100 on the line (after the INTEGRA probe's bytes) without writing", async () => {
    const before = (await state()).codes;
    const result = await site.sandbox.run(['--timeout', '1s', 'probe', `serial://${site.pty.b}`, '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).answered).toMatchObject({ driver: 'dsc', model: expect.stringMatching(/IT-100/) });
    expect((await state()).codes).toEqual(before);
  });
});
