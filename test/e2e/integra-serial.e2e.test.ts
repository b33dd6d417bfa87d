import { describe, expect, it } from 'vitest';
import { makeSandbox } from '../support/cli.js';
import { serialPanel } from '../support/serial-sim.js';
import { haveSocat, makePtyPair } from '../support/pty-pair.js';

/**
 * On site: `panelctl sim integra --serial` on one end of a pseudo-terminal pair (standing in for
 * the INT-RS module), the real panelctl binary on the other, exactly as a technician's laptop.
 */
describe.skipIf(!haveSocat)('INTEGRA over a real serial line (INT-RS, 19200 8N1)', () => {
  const site = serialPanel('integra', {
    stateFile: 'panel.json',
    simArgs: ['--users', '4'],
    inventory: (device) => `panels:\n  site:\n    driver: integra\n    link: serial://${device}?baud=19200&parity=none&stopbits=1\n    secret: env:SITE_CODE\n`,
    env: { SITE_CODE: '1111' },
  });
  const { run, state } = site;

  it('lists, adds, changes a code and removes, each verified, over the serial line', async () => {
    const list = await run(['users', 'list', '--panel', 'site', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).users.map((u: { slot: number }) => u.slot)).toEqual([1, 2, 3, 4, 241]);

    const add = await run(['users', 'add', '--panel', 'site', '--slot', '9', '--name', 'Technician', '--code-stdin'], '850371\n');
    expect(add.code, add.stderr).toBe(0);
    expect((await state()).users['9']).toMatchObject({ name: 'Technician', code: '850371' });

    const change = await run(['users', 'set-code', '--panel', 'site', '--slot', '9', '--code-stdin'], '936152\n');
    expect(change.code, change.stderr).toBe(0);
    expect((await state()).users['9']).toMatchObject({ name: 'Technician', code: '936152' });

    const remove = await run(['users', 'remove', '--panel', 'site', '--slot', '9', '--yes']);
    expect(remove.code, remove.stderr).toBe(0);
    expect((await state()).users['9']).toBeUndefined();

    const everything = [list, add, change, remove].map((r) => r.stdout + r.stderr).join('') + (await site.sandbox.allWrittenText());
    for (const code of ['850371', '936152']) expect(everything).not.toContain(code);
  });

  it('probe finds the INTEGRA protocol on the line without writing', async () => {
    const before = (await state()).users;
    const result = await site.sandbox.run(['probe', `serial://${site.pty.b}`, '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).answered).toMatchObject({ driver: 'integra', model: 'INTEGRA 128' });
    expect((await state()).users).toEqual(before);
  });

  it('a serial port that does not exist is named, with the ports that do (exit 4)', async () => {
    const result = await site.sandbox.run(['users', 'list', '--link', 'serial:///dev/ttyUSB97', '--driver', 'integra', '--secret-from', 'env:SITE_CODE'], {
      env: { SITE_CODE: '1111' },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/serial port \/dev\/ttyUSB97 does not exist/);
    expect(result.stderr).toMatch(/hint: (ports that exist|no serial ports)/);
  });
});

describe.skipIf(!haveSocat)('the cable is pulled mid-command', () => {
  it('ends with "lost the panel", exit 4, well within the timeout', async () => {
    const sandbox = await makeSandbox();
    const pty = await makePtyPair();
    const { createSimulator } = await import('../../drivers/integra/simulator.js');
    const { serveSerial } = await import('../../src/transport/serial.js');
    const sim = await createSimulator({ users: 3, options: { latencyMs: 1500 } });
    const served = await serveSerial(pty.a, { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 }, (s) => sim.accept(s));
    try {
      const pending = sandbox.run(['--timeout', '15s', 'users', 'list', '--link', `serial://${pty.b}`, '--driver', 'integra', '--secret-from', 'env:C'], {
        env: { C: '1111' },
      });
      setTimeout(() => void pty.close(), 700);
      const result = await pending;
      expect(result.code).toBe(4);
      // Lost at the pull, not at the 15 s timeout (that says "no answer"): no clock is read, a wall-clock bound flakes under load.
      expect(result.stderr).toMatch(/lost the panel: /);
      expect(result.stderr).not.toMatch(/no answer from/);
    } finally {
      await served.close().catch(() => undefined);
      await sandbox.cleanup();
    }
  });
});
