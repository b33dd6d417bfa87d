import { describe, expect, it } from 'vitest';
import { secretsIn } from '../support/cli.js';
import { serialPanel } from '../support/serial-sim.js';
import { haveSocat } from '../support/pty-pair.js';

/**
 * On site: `panelctl sim vista --serial` (an AD2USB at 115200 8N1) on one end of a pseudo-terminal
 * pair, the real panelctl binary on the other, as a technician's laptop plugged into the AlarmDecoder.
 */
describe.skipIf(!haveSocat)('VISTA through an AlarmDecoder on a serial line (115200 8N1)', () => {
  const MASTER = '2739';
  const site = serialPanel('vista', {
    stateFile: 'vista-panel.json',
    simArgs: ['--users', '2', '--set', `masterCode=${MASTER}`, '--set', 'statusIntervalMs=200', '--set', 'keyTimeoutMs=400', '--set', 'maxUser=33'],
    inventory: (device) =>
      `stations:\n  quiet:\n    type: none\npanels:\n  site:\n    driver: vista\n    link: serial://${device}\n    secret: env:SITE_MASTER\n    options: { maxUser: 33, keyIntervalMs: 20, ackTimeoutMs: 1500, keyTimeoutMs: 400 }\n    station: quiet\n`,
    env: { SITE_MASTER: MASTER },
  });
  const { run, state } = site;

  it('adds, changes a code and removes, each acknowledged by the panel, over the serial line', async () => {
    const add = await run(['users', 'add', '--panel', 'site', '--slot', '9', '--code-stdin', '-o', 'json'], '8503\n');
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ proof: 'panel-ack', verified: false });
    expect((await state()).codes['09']).toBe('8503');

    const change = await run(['users', 'set-code', '--panel', 'site', '--slot', '9', '--code-stdin'], '9361\n');
    expect(change.code, change.stderr).toBe(0);
    expect((await state()).codes['09']).toBe('9361');

    const remove = await run(['users', 'remove', '--panel', 'site', '--slot', '9', '--yes']);
    expect(remove.code, remove.stderr).toBe(0);
    expect((await state()).codes['09']).toBeUndefined();

    const beyond = await run(['users', 'set-code', '--panel', 'site', '--slot', '34', '--code-stdin'], '1593\n');
    expect(beyond.code).toBe(2); // a VISTA-15P has no user 34: refused before any key

    const everything = [add, change, remove, beyond].map((r) => r.stdout + r.stderr).join('') + (await site.sandbox.allWrittenText());
    expect(secretsIn(everything, [MASTER, '8503', '9361']), 'leaked').toEqual([]);
  });

  it('starts and stops the walk test over the serial line', async () => {
    const start = await run(['test-mode', 'start', '--panel', 'site', '--for', '20m']);
    expect(start.code, start.stderr).toBe(0);
    expect((await state()).walkTest).toBe(true);
    const stop = await run(['test-mode', 'stop', '--panel', 'site']);
    expect(stop.code, stop.stderr).toBe(0);
    expect((await state()).walkTest).toBe(false);
  });

  it('probe finds the AlarmDecoder at 115200 baud', async () => {
    const probe = await run(['probe', `serial://${site.pty.b}?baud=115200`, '-o', 'json']);
    expect(probe.code, probe.stderr).toBe(0);
    expect(JSON.parse(probe.stdout).answered).toMatchObject({ driver: 'vista' });
  });
});
