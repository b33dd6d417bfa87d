import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../../../src/core/secret.js';
import { driver } from '../../../drivers/dsc/driver.js';
import { createSimulator, type DscSimulator } from '../../../drivers/dsc/simulator.js';
import { asDriverSession, type DriverSession } from '../../support/driver-session.js';

/** The driver against the simulator over real TCP sockets: Envisalink (login) and IT-100 framing. */

const MASTER = '4821';
const TPI = 'tp9X2q';
const INSTALLER = '7306';

interface Rig {
  sim: DscSimulator;
  port: number;
  close(): Promise<void>;
}
const rigs: Rig[] = [];

async function rig(options: Record<string, string | number | boolean> = {}, users = 4): Promise<Rig> {
  const sim = await createSimulator({ users, options: { tpiPassword: TPI, masterCode: MASTER, installerCode: INSTALLER, ...options } });
  const server = await sim.listenTcp();
  const r = {
    sim,
    port: server.port,
    close: async () => {
      await server.close();
      await sim.close();
    },
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

function open(
  r: Rig,
  extra: {
    code?: string;
    tpi?: string;
    installer?: string;
    options?: Record<string, string | number | boolean>;
    signal?: AbortSignal;
    trace?: (d: 'tx' | 'rx', t: string) => void;
  } = {},
): Promise<DriverSession & { keypad?: { counts: { keys: number; commands: number } } }> {
  const secrets: Record<string, Secret> = { code: new Secret(extra.code ?? MASTER), tpiPassword: new Secret(extra.tpi ?? TPI) };
  if (extra.installer) secrets.installer = new Secret(extra.installer);
  return driver
    .open({
      link: { kind: 'tcp', host: '127.0.0.1', port: r.port, url: '' },
      secrets,
      options: extra.options ?? {},
      timeoutMs: 2000,
      signal: extra.signal,
      trace: extra.trace,
    })
    .then(asDriverSession);
}

describe('DSC driver against the simulated PC1864 behind an Envisalink', () => {
  it('logs in, lists programmed slots with their kinds from the LCD, and leaves the menu', async () => {
    const r = await rig();
    const session = await open(r);
    const users = await session.listUsers();
    expect(users.map((u) => [u.slot, u.kind])).toEqual([
      [1, 'user'],
      [2, 'user'],
      [3, 'user'],
      [4, 'user'],
      [40, 'master'],
    ]);
    expect(users.every((u) => u.hasCode && u.name === undefined)).toBe(true);
    expect(users.find((u) => u.slot === 40)?.editable).toBe(false);
    expect(r.sim.keypadMode).toBe('select');
    await session.close();
    expect(r.sim.keypadMode).toBe('idle');
    expect(r.sim.stats.menuExitsByKey).toBe(1);
  });

  it('adds, changes and removes a code through the keypad; the slot reads back from the LCD', async () => {
    const r = await rig();
    const session = await open(r);
    expect(await session.readUser(20)).toBeUndefined();
    const created = await session.createUser({ slot: 20, name: 'ignored', code: new Secret('8642') });
    expect(created).toMatchObject({ slot: 20, kind: 'user', hasCode: true });
    expect(created.name).toBeUndefined();
    expect(r.sim.state.codes[20]).toBe('8642');
    expect(await session.readUser(20)).toMatchObject({ slot: 20, hasCode: true });
    await session.changeCode(20, new Secret('9753'));
    expect(r.sim.state.codes[20]).toBe('9753');
    await session.deleteUser(20);
    expect(r.sim.state.codes[20]).toBeUndefined();
    expect(await session.readUser(20)).toBeUndefined();
    await session.close();
    expect(r.sim.keypadMode).toBe('idle');
    expect(r.sim.stats.menuEntries).toBe(1); // one [*][5] entry carried every step
  });

  it('picks the lowest free user slot for an add without a slot', async () => {
    const r = await rig();
    const session = await open(r);
    const created = await session.createUser({ name: '', code: new Secret('5190') });
    expect(created.slot).toBe(5);
    expect(r.sim.state.codes[5]).toBe('5190');
    await session.close();
  });

  it('refuses a code another slot has (the panel\'s "Code In Use"), changing nothing', async () => {
    const r = await rig();
    const session = await open(r);
    const taken = r.sim.state.codes[2];
    await expect(session.changeCode(3, new Secret(taken))).rejects.toMatchObject({ code: 'E_CODE_REJECTED', exitCode: 3 });
    expect(r.sim.state.codes[3]).not.toBe(taken);
    await session.close();
    expect(r.sim.keypadMode).toBe('idle');
  });

  it('guards the master slot: no change without allowMaster, never a deletion', async () => {
    const r = await rig();
    const session = await open(r);
    const keys = r.sim.stats.keystrokes;
    await expect(session.changeCode(40, new Secret('3917'))).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/master code/) });
    await expect(session.deleteUser(40)).rejects.toMatchObject({ code: 'E_INVALID', exitCode: 2 });
    expect(r.sim.stats.keystrokes).toBe(keys);
    await session.close();

    const allowed = await open(r, { options: { allowMaster: true } });
    await allowed.changeCode(40, new Secret('3917'));
    expect(r.sim.state.codes[40]).toBe('3917');
    expect(await allowed.readUser(40)).toMatchObject({ kind: 'master', editable: true });
    await allowed.close();
  });

  it('enforces the code length before sending anything', async () => {
    const r = await rig();
    const session = await open(r);
    const keys = r.sim.stats.keystrokes;
    await expect(session.createUser({ slot: 9, name: '', code: new Secret('864213') })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/4 digits/),
    });
    expect(r.sim.stats.keystrokes).toBe(keys);
    await session.close();
    await expect(open(r, { options: { codeLength: 6 } })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/master code has 4 digits/) });
  });

  it('a wrong master code is entered once: exit 3, the panel counts exactly one wrong code', async () => {
    const r = await rig();
    const session = await open(r, { code: '9999' });
    await expect(session.listUsers()).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL', exitCode: 3 });
    await expect(session.readUser(1)).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
    await session.close();
    expect(r.sim.stats.wrongCodes).toBe(1);
  });

  it('after three wrong codes the keypad locks out, and a right code is then refused with E_LOCKOUT', async () => {
    const r = await rig({ lockoutAfter: 3, lockoutMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      const session = await open(r, { code: '9999' });
      await expect(session.listUsers()).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
      await session.close();
    }
    expect(r.sim.stats).toMatchObject({ wrongCodes: 3, lockouts: 1 });
    const right = await open(r);
    await expect(right.listUsers()).rejects.toMatchObject({ code: 'E_LOCKOUT', exitCode: 3 });
    await right.close();
    expect(r.sim.stats.wrongCodes).toBe(3);
  });

  it('a busy partition (673) is exit 4 and leaves the keypad idle', async () => {
    const r = await rig({ busy: true });
    const session = await open(r);
    await expect(session.listUsers()).rejects.toMatchObject({ code: 'E_BUSY', exitCode: 4 });
    await session.close();
    expect(r.sim.keypadMode).toBe('idle');
    expect(r.sim.stats.writes).toBe(0);
  });

  it('a line dropped mid-menu leaves the panel in the menu; the next session brings it back and works', async () => {
    const r = await rig();
    const session = await open(r);
    r.sim.setFaults({ dropAfterKeys: 5 }); // 072 is two keys; the drop comes during the slot list
    await expect(session.listUsers()).rejects.toMatchObject({ exitCode: 4 });
    await session.close();
    expect(r.sim.keypadMode).toBe('select'); // as a real panel: still in [*][5] until its keypad times out
    const next = await open(r);
    expect(r.sim.keypadMode).toBe('idle'); // the next session's first keys ([#]) took it out
    await next.createUser({ slot: 11, name: '', code: new Secret('6071') });
    expect(r.sim.state.codes[11]).toBe('6071');
    await next.close();
  });

  it('Ctrl-C (abort) mid-operation still takes the keypad out of the menu', async () => {
    const r = await rig({ latencyMs: 15 });
    const controller = new AbortController();
    const session = await open(r, { signal: controller.signal });
    const listing = session.listUsers();
    setTimeout(() => controller.abort(), 150);
    await expect(listing).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(r.sim.keypadMode).toBe('idle');
    await session.close();
  });

  it('Ctrl-C between [*][5] and the code prompt still leaves the keypad idle', async () => {
    const r = await rig({ latencyMs: 80 });
    const controller = new AbortController();
    const session = await open(r, { signal: controller.signal });
    const reading = session.readUser(3);
    setTimeout(() => controller.abort(), 40);
    await expect(reading).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(r.sim.keypadMode).toBe('idle');
    expect(r.sim.stats.wrongCodes).toBe(0);
    await session.close();
  });

  it('the simulated keypad leaves a menu by itself after its idle timeout', async () => {
    const r = await rig({ menuTimeoutMs: 150 });
    const session = await open(r);
    await session.readUser(1);
    expect(r.sim.keypadMode).toBe('select');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.sim.keypadMode).toBe('idle');
    expect(r.sim.stats.menuTimeouts).toBe(1);
    await session.close();
  });

  it('refuses a wrong TPI password once, and a second TPI client', async () => {
    const r = await rig();
    await expect(open(r, { tpi: 'nope' })).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL', exitCode: 3 });
    expect(r.sim.stats.loginFailures).toBe(1);
    const holder = await open(r);
    await expect(open(r)).rejects.toMatchObject({ code: 'E_BUSY', exitCode: 4 });
    await holder.close();
  });

  it('runs the installer walk test with the installer code; without it, says what is missing', async () => {
    const r = await rig();
    const without = await open(r);
    await expect(without.testMode!.start({ minutes: 5 })).rejects.toMatchObject({ exitCode: 6, message: expect.stringMatching(/installer/) });
    await without.close();

    const session = await open(r, { installer: INSTALLER });
    expect(await session.testMode!.status()).toEqual({ active: false, mode: 'walk test' });
    expect(await session.testMode!.start({ minutes: 5 })).toMatchObject({ active: true });
    expect(r.sim.state.walkTest).toBe(true);
    await session.close();
    const again = await open(r, { installer: INSTALLER });
    expect(await again.testMode!.status()).toMatchObject({ active: true });
    expect(await again.testMode!.start({ minutes: 5 })).toMatchObject({ active: true }); // already on: not toggled off
    expect(await again.testMode!.stop()).toMatchObject({ active: false });
    expect(r.sim.state.walkTest).toBe(false);
    await again.close();
    expect(r.sim.keypadMode).toBe('idle');
  });

  it('never puts a code or the TPI password in a trace line', async () => {
    const r = await rig();
    const lines: string[] = [];
    const session = await open(r, { installer: INSTALLER, trace: (d, t) => lines.push(`${d} ${t}`) });
    await session.createUser({ slot: 21, name: '', code: new Secret('5827') });
    await session.testMode!.start({ minutes: 1 });
    await session.close();
    const text = lines.join('\n');
    expect(text).toMatch(/071 1\*5|072 1/);
    for (const secret of [MASTER, TPI, INSTALLER, '5827']) expect(text).not.toContain(secret);
    expect(text).toContain('071 121****');
  });

  it('probe recognises an Envisalink without logging in', async () => {
    const r = await rig();
    expect(await driver.probe!({ kind: 'tcp', host: '127.0.0.1', port: r.port, url: '' }, { timeoutMs: 1000 })).toMatchObject({
      driver: 'dsc',
      model: expect.stringMatching(/Envisalink/),
    });
    expect(r.sim.stats.loginFailures).toBe(0);
  });
});

describe('DSC driver, IT-100 framing (070 key + key break, no login)', () => {
  it('lists and adds a code one key at a time', async () => {
    const r = await rig({ mode: 'it100' });
    const session = await open(r, { options: { module: 'it100' } });
    expect((await session.listUsers()).map((u) => u.slot)).toEqual([1, 2, 3, 4, 40]);
    await session.createUser({ slot: 12, name: '', code: new Secret('3164') });
    expect(r.sim.state.codes[12]).toBe('3164');
    await session.close();
    expect(r.sim.keypadMode).toBe('idle');
  });

  it('pads a 4-digit code to 6 in the 200 by default, as the IT-100 wants; unpadded it answers 502 020 and the error names padCodes (issue 17 item 5)', async () => {
    const r = await rig({ mode: 'it100' });
    const traces: string[] = [];
    const padded = await open(r, { options: { module: 'it100' }, trace: (d, t) => traces.push(`${d} ${t}`) });
    await padded.listUsers();
    await padded.close();
    expect(traces).toContain('tx 200 ******');
    const unpadded = await open(r, { options: { module: 'it100', padCodes: false } });
    await expect(unpadded.listUsers()).rejects.toMatchObject({ exitCode: 5, hint: expect.stringMatching(/options\.padCodes/) });
    await unpadded.close();
    expect(r.sim.stats.wrongCodes).toBe(0);
    expect(r.sim.keypadMode).toBe('idle');
  });

  it('lists on an Envisalink without arrow keys, which the TPI refuses in a 071 (502 027; issue 17 item 1)', async () => {
    const r = await rig({ maxUsers: 48 });
    const traces: string[] = [];
    const session = await open(r, { options: { maxUsers: 48 }, trace: (d, t) => traces.push(`${d} ${t}`) });
    expect((await session.listUsers()).map((u) => u.slot)).toEqual([1, 2, 3, 4, 40]);
    await session.close();
    expect(traces.filter((t) => t.startsWith('tx 071') && /[<>]/.test(t))).toEqual([]);
    expect(r.sim.keypadMode).toBe('idle');
  });

  it('an Envisalink that sends no LCD text is recognised at once: exit 6 naming why and what to use, nothing keyed (issue 17 item 2)', async () => {
    const r = await rig({ lcdText: false });
    await expect(open(r)).rejects.toMatchObject({ exitCode: 6, message: expect.stringMatching(/no keypad text/), hint: expect.stringMatching(/IT-100/) });
    expect(r.sim.stats).toMatchObject({ keystrokes: 0, menuEntries: 0, wrongCodes: 0 });
  });

  it('sends the code as is on an Envisalink unless told to pad it', async () => {
    const r = await rig();
    const traces: string[] = [];
    const session = await open(r, { trace: (d, t) => traces.push(`${d} ${t}`) });
    await session.listUsers();
    await session.close();
    expect(traces).toContain('tx 200 ****');
    await expect(open(r, { options: { padCodes: 'sometimes' } })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/padCodes/) });
  });

  it('probe gets the 500 acknowledgement of a poll', async () => {
    const r = await rig({ mode: 'it100' });
    expect(await driver.probe!({ kind: 'tcp', host: '127.0.0.1', port: r.port, url: '' }, { timeoutMs: 1000 })).toMatchObject({
      driver: 'dsc',
      model: expect.stringMatching(/IT-100/),
    });
  });
});

describe('DSC on hostile links (issue 14 items 2, 12, 14)', () => {
  /** A fake module on a real port: `onLine` gets each line panelctl sends and the socket to answer on. */
  async function hostile(
    onConnect: (write: (bytes: Buffer | string) => void) => void,
    onLine: (line: string, write: (bytes: Buffer | string) => void, flood: (bytes: Buffer) => void) => void,
  ): Promise<Rig> {
    const { serveTcp } = await import('../../../src/transport/tcp.js');
    const server = await serveTcp('127.0.0.1', 0, (stream) => {
      const write = (bytes: Buffer | string) => void stream.write(Buffer.from(bytes)).catch(() => undefined);
      const flood = async (bytes: Buffer) => {
        // Stop at the first failed write: a socket ended by the peer fails every write at once.
        while (
          !stream.closed &&
          (await stream.write(bytes).then(
            () => true,
            () => false,
          ))
        );
      };
      let text = '';
      stream.onData((chunk) => {
        text += chunk.toString('latin1');
        const lines = text.split('\r\n');
        text = lines.pop() ?? '';
        for (const line of lines) onLine(line, write, (bytes) => void flood(bytes));
      });
      onConnect(write);
    });
    const r = { sim: undefined as unknown as DscSimulator, port: server.port, close: () => server.close() };
    rigs.push(r);
    return r;
  }

  it('an IT-100 line that echoes: our own 058 coming back is E_ECHO (exit 5), with a hint', async () => {
    const r = await hostile(
      () => undefined,
      (line, write) => write(`${line}\r\n`),
    );
    const error = await open(r, { options: { module: 'it100' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_ECHO', exitCode: 5 });
    expect((error as Error & { hint: string }).hint).toMatch(/echo/);
  });

  it('an Envisalink that asks for the password and then echoes: E_ECHO, and the echoed password is never traced', async () => {
    const { encodeMessage } = await import('../../../drivers/dsc/codec.js');
    const r = await hostile(
      (write) => write(encodeMessage('505', '3')),
      (line, write) => write(`${line}\r\n`),
    );
    const lines: string[] = [];
    const error = await open(r, { trace: (d, t) => lines.push(`${d} ${t}`) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_ECHO', exitCode: 5 });
    expect(lines.join('\n')).not.toContain(TPI);
    expect(lines.find((l) => l.startsWith('rx 005'))).toMatch(/not shown/);
  });

  it('a flood of valid messages that never acknowledge is E_FLOOD (exit 5), long before the timeout', async () => {
    const { encodeMessage } = await import('../../../drivers/dsc/codec.js');
    const burst = Buffer.concat(Array(600).fill(encodeMessage('510', '81')));
    const r = await hostile(
      () => undefined,
      (_line, _write, flood) => flood(burst),
    );
    const error = await driver
      .open({
        link: { kind: 'tcp', host: '127.0.0.1', port: r.port, url: '' },
        secrets: { code: new Secret(MASTER) },
        options: { module: 'it100' },
        timeoutMs: 60_000,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'E_FLOOD', exitCode: 5 });
  });

  it('a timeout names the whole wait, not the last slice of it ("within 1 ms" before)', async () => {
    const { encodeMessage } = await import('../../../drivers/dsc/codec.js');
    // A panel that chatters (LED updates) but never acknowledges: the wait is cut into many slices.
    const r = await hostile(
      (write) => {
        const timer = setInterval(() => write(encodeMessage('510', '81')), 25);
        rigs.push({ sim: undefined as unknown as DscSimulator, port: 0, close: async () => clearInterval(timer) });
      },
      () => undefined,
    );
    const error = await driver
      .open({
        link: { kind: 'tcp', host: '127.0.0.1', port: r.port, url: '' },
        secrets: { code: new Secret(MASTER) },
        options: { module: 'it100' },
        timeoutMs: 1000,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: 4 });
    expect((error as Error).message).toContain('within 1 s');
  });
});
