import { afterEach, describe, expect, it } from 'vitest';
import type { PanelSession } from '../../../src/core/contract.js';
import { Secret } from '../../../src/core/secret.js';
import { memoryPair } from '../../../src/transport/memory.js';
import { driver, type VistaSession } from '../../../drivers/vista/driver.js';
import { createSimulator, type VistaSimulator } from '../../../drivers/vista/simulator.js';

/** The driver against the simulated VISTA-20P behind an AlarmDecoder, over real TCP (ser2sock style). */

const MASTER = '4821';

interface Rig {
  sim: VistaSimulator;
  port: number;
}
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function rig(options: Record<string, string | number | boolean> = {}): Promise<Rig> {
  const sim = await createSimulator({ users: 3, options: { masterCode: MASTER, statusIntervalMs: 50, keyTimeoutMs: 200, ...options } });
  const server = await sim.listenTcp();
  closers.push(async () => {
    await server.close();
    await sim.close();
  });
  return { sim, port: server.port };
}

async function open(
  r: Rig,
  extra: { code?: string; options?: Record<string, string | number | boolean>; signal?: AbortSignal; trace?: (d: 'tx' | 'rx', t: string) => void } = {},
): Promise<VistaSession> {
  const session = (await driver.open({
    link: { kind: 'tcp', host: '127.0.0.1', port: r.port, url: `tcp://127.0.0.1:${r.port}` },
    secrets: { code: new Secret(extra.code ?? MASTER) },
    options: { keyIntervalMs: 5, ackTimeoutMs: 600, keyTimeoutMs: 200, ...extra.options },
    timeoutMs: 2000,
    signal: extra.signal,
    trace: extra.trace,
  })) as VistaSession;
  closers.push(() => session.close());
  return session;
}

describe('VISTA driver against the simulated panel', () => {
  it('adds, changes and deletes users by key sequences, each acknowledged by the one beep', async () => {
    const r = await rig();
    const session = await open(r);
    await session.createUser({ slot: 7, name: '', code: new Secret('6150') });
    expect(r.sim.state.codes['07']).toBe('6150');
    await session.changeCode(7, new Secret('6151'));
    expect(r.sim.state.codes['07']).toBe('6151');
    await session.deleteUser(7);
    expect(r.sim.state.codes['07']).toBeUndefined();
    expect(r.sim.stats).toMatchObject({ writes: 3, refusals: 0 });
    // The minimum: 4 + 1 + 2 + 4 keys for add and change, 4 + 1 + 2 + 2 to delete; nothing more.
    expect(session.keypad.counts.keys).toBe(11 + 11 + 9);
  });

  it('offers a writer and test mode, no reader and no code checker, as its facets declare; add needs a user number (exit 6)', async () => {
    const r = await rig();
    const session = await open(r);
    expect(driver.describe().facets).toEqual({
      writer: { proofs: ['panel-ack'], nextSlot: false },
      reader: false,
      codeChecker: false,
      testMode: true,
      probe: true,
    });
    expect(session.writer).toBeDefined();
    expect(session.testMode).toBeDefined();
    const asSession: PanelSession = session;
    expect(asSession.reader).toBeUndefined();
    expect(asSession.codeChecker).toBeUndefined();
    await expect(session.createUser({ name: '', code: new Secret('6150') })).rejects.toMatchObject({
      exitCode: 6,
      hint: expect.stringContaining('audit show'),
    });
  });

  it('refuses, before any key, user 01, deleting the master, the master without allowMaster, a user beyond maxUser and a 6-digit code', async () => {
    const r = await rig();
    const session = await open(r, { options: { maxUser: 33 } });
    const before = r.sim.stats.keys;
    await expect(session.changeCode(1, new Secret('6150'))).rejects.toMatchObject({ exitCode: 2 });
    await expect(session.deleteUser(2)).rejects.toMatchObject({ exitCode: 2 });
    await expect(session.changeCode(2, new Secret('6150'))).rejects.toMatchObject({ exitCode: 2 });
    await expect(session.changeCode(34, new Secret('6150'))).rejects.toMatchObject({ exitCode: 2 });
    await expect(session.changeCode(5, new Secret('615012'))).rejects.toMatchObject({ exitCode: 2 });
    expect(r.sim.stats.keys).toBe(before);
  });

  it('changes the master code with allowMaster (keyed twice) and types the new one from then on', async () => {
    const r = await rig();
    const session = await open(r, { options: { allowMaster: true } });
    await session.changeCode(2, new Secret('9035'));
    expect(r.sim.state.codes['02']).toBe('9035');
    await session.changeCode(5, new Secret('2468'));
    expect(r.sim.state.codes['05']).toBe('2468');
  });

  it('a wrong master code: refused once (exit 3), never typed again in the session', async () => {
    const r = await rig();
    const session = await open(r, { code: '9999' });
    await expect(session.changeCode(5, new Secret('2468'))).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL', exitCode: 3 });
    const keys = r.sim.stats.keys;
    await expect(session.changeCode(6, new Secret('2469'))).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
    await expect(session.testMode.start({ minutes: 5 })).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
    expect(r.sim.stats.keys).toBe(keys);
    expect(r.sim.stats).toMatchObject({ wrongCodes: 1, writes: 0 });
  });

  it('a code another user has is not acknowledged either: nothing changes', async () => {
    const r = await rig();
    const session = await open(r);
    await expect(session.changeCode(6, new Secret(r.sim.state.codes['03']))).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
    expect(r.sim.state.codes['06']).toBeUndefined();
  });

  it('a panel that goes quiet after the keys: the outcome is unknown (exit 4), not a refusal', async () => {
    const r = await rig({ statusIntervalMs: 60_000 });
    const session = await open(r);
    r.sim.setFaults({ dropLines: 1000 });
    await expect(session.changeCode(5, new Secret('2468'))).rejects.toMatchObject({
      code: 'E_TIMEOUT',
      exitCode: 4,
      message: expect.stringContaining('unknown'),
    });
  });

  it('deletes on a panel with no ending key by waiting for the beep', async () => {
    const r = await rig({ deleteKeys: 'wait' });
    const session = await open(r, { options: { deleteKeys: 'wait' } });
    await session.deleteUser(3);
    expect(r.sim.state.codes['03']).toBeUndefined();
  });

  it('starts and ends the walk test, reading the display', async () => {
    const r = await rig();
    const session = await open(r);
    expect(await session.testMode.status()).toEqual({ active: false, mode: 'walk test' });
    expect(await session.testMode.start({ minutes: 5 })).toEqual({ active: true, mode: 'walk test' });
    expect(r.sim.state.walkTest).toBe(true);
    await expect(session.changeCode(5, new Secret('2468'))).rejects.toMatchObject({ code: 'E_TEST_ACTIVE' });
    expect(await session.testMode.stop()).toEqual({ active: false, mode: 'walk test' });
    expect(r.sim.state.walkTest).toBe(false);
  });

  it('starts the walk test on a panel without the dial-or-walk choice', async () => {
    const r = await rig({ walkPrompt: false });
    const session = await open(r, { options: { walkPrompt: false } });
    await session.testMode.start({ minutes: 5 });
    expect(r.sim.state.walkTest).toBe(true);
  });

  it('refuses to change codes in programming mode (busy, exit 4) before any key', async () => {
    const r = await rig({ programming: true });
    const session = await open(r);
    await expect(session.changeCode(5, new Secret('2468'))).rejects.toMatchObject({ code: 'E_BUSY', exitCode: 4 });
    expect(r.sim.stats.keys).toBe(0);
  });

  it('Ctrl-C in the middle of a sequence: the half-typed entry is waited out, so the next session is not typed into it', async () => {
    const r = await rig({ keyTimeoutMs: 200 });
    const controller = new AbortController();
    const session = await open(r, { signal: controller.signal, options: { keyIntervalMs: 40, keyTimeoutMs: 200 } });
    r.sim.onKey = (count) => count === 3 && controller.abort();
    const pending = session.changeCode(8, new Secret('2468'));
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(r.sim.stats.keys).toBe(3);
    expect(r.sim.stats.aborts).toBe(1); // the panel dropped the entry before the driver let go
    const next = await open(r);
    await next.changeCode(6, new Secret('1357'));
    expect(r.sim.state.codes['06']).toBe('1357');
    expect(r.sim.state.codes['08']).toBeUndefined();
  });

  it('Ctrl-C while starting the walk test ends a test that started', async () => {
    const r = await rig();
    const controller = new AbortController();
    const session = await open(r, { signal: controller.signal });
    r.sim.setFaults({ latencyMs: 150 }); // the display answer is slow: Ctrl-C lands while waiting for it
    r.sim.onKey = (count) => count === 6 && controller.abort(); // code + 5 + 0: every key is out
    const pending = session.testMode.start({ minutes: 5 });
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(r.sim.state.walkTest).toBe(false);
  });

  it('masks code digits in the trace', async () => {
    const r = await rig();
    const lines: string[] = [];
    const session = await open(r, { trace: (d, t) => lines.push(`${d} ${t}`) });
    await session.changeCode(5, new Secret('2468'));
    const text = lines.join('\n');
    expect(text).toContain('keys ****805****');
    expect(text).not.toMatch(/4821|2468/);
  });

  it('an echoing link is a protocol error (E_ECHO) at open', async () => {
    const [client, peer] = memoryPair('echo');
    peer.onData((chunk) => void peer.write(chunk).catch(() => undefined));
    const { Ad2Keypad } = await import('../../../drivers/vista/keypad.js');
    const { vistaSession, settingsFor } = await import('../../../drivers/vista/driver.js');
    const keypad = new Ad2Keypad(client, { address: 18, keyIntervalMs: 0, timeoutMs: 2000 });
    const opened = vistaSession(
      keypad,
      { link: { kind: 'tcp', host: 'x', port: 1, url: 'echo' }, secrets: { code: new Secret(MASTER) }, options: {}, timeoutMs: 2000 },
      settingsFor({}),
    );
    await expect(opened).rejects.toMatchObject({ code: 'E_ECHO', exitCode: 5 });
  });

  it('probe: the AlarmDecoder answers V', async () => {
    const r = await rig();
    const found = await driver.probe?.({ kind: 'tcp', host: '127.0.0.1', port: r.port, url: `tcp://127.0.0.1:${r.port}` }, { timeoutMs: 1000 });
    expect(found).toMatchObject({ driver: 'vista', firmware: 'V2.2a.8.8' });
  });
});

describe('VISTA inventory options (options.ts, zod)', () => {
  it('takes YAML values and --option text alike, with the defaults', async () => {
    const { settingsFor } = await import('../../../drivers/vista/driver.js');
    expect(settingsFor({})).toMatchObject({ maxUser: 49, deleteKeys: '#0', walkPrompt: true, keyIntervalMs: 150, address: 18, allowMaster: false });
    expect(settingsFor({ maxUser: '33', walkPrompt: 'false', allowMaster: true, deleteKeys: 'wait' })).toMatchObject({
      maxUser: 33,
      walkPrompt: false,
      allowMaster: true,
      deleteKeys: 'wait',
    });
  });

  it('refuses an unknown option and a bad value, naming the field (exit 2)', async () => {
    const { settingsFor } = await import('../../../drivers/vista/driver.js');
    expect(() => settingsFor({ maxuser: 33 })).toThrow('options.maxuser: unknown option; did you mean maxUser?');
    expect(() => settingsFor({ maxUser: 50 })).toThrow(/options\.maxUser: must be at most 49/);
    expect(() => settingsFor({ deleteKeys: '#1' })).toThrow(/options\.deleteKeys: must be one of #0, 0#, wait/);
    expect(() => settingsFor({ walkPrompt: 'yes' })).toThrow(/options\.walkPrompt: must be true or false/);
    expect(() => settingsFor({ address: 40 })).toThrow(expect.objectContaining({ exitCode: 2, field: 'options.address' }));
  });
});
