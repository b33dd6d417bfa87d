import { afterEach, describe, expect, it } from 'vitest';
import type { PanelSession, UserWriter } from '../../../src/core/contract.js';
import { toPanelctlError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import { facetMismatch } from '../../../src/operations/facets.js';
import { driver } from '../../../drivers/dsc/driver.js';
import { createSimulator, type DscSimulator } from '../../../drivers/dsc/simulator.js';

/**
 * An Envisalink without keypad text (options.lcdText: false) against the simulator playing one (`lcdText=false`):
 * writes by slot through 071 keys, each visit to [*][5] proven by the Program LED lighting and going out.
 */

const MASTER = '4821';
const TPI = 'tp9X2q';
const rigs: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const r of rigs.splice(0).reverse()) await r.close();
});

async function rig(options: Record<string, string | number | boolean> = {}): Promise<{ sim: DscSimulator; port: number }> {
  const sim = await createSimulator({ users: 4, options: { tpiPassword: TPI, masterCode: MASTER, lcdText: false, ...options } });
  const server = await sim.listenTcp();
  rigs.push({
    close: async () => {
      await server.close();
      await sim.close();
    },
  });
  return { sim, port: server.port };
}

async function open(
  port: number,
  extra: { code?: string; signal?: AbortSignal; trace?: (d: 'tx' | 'rx', t: string) => void } = {},
): Promise<PanelSession & { writer: UserWriter }> {
  const session = await driver.open({
    link: { kind: 'tcp', host: '127.0.0.1', port, url: '' },
    secrets: { code: new Secret(extra.code ?? MASTER), tpiPassword: new Secret(TPI) },
    options: { lcdText: false },
    timeoutMs: 2000,
    signal: extra.signal,
    trace: extra.trace,
  });
  rigs.push(session);
  if (!session.writer) throw new Error('a text-less session writes');
  return session as PanelSession & { writer: UserWriter };
}

const failure = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => toPanelctlError(error),
  );

describe('DSC driver on an Envisalink without keypad text (issue 17 item 2)', () => {
  it('offers what it declares: writes proven by panel-ack, no reader, no test mode', async () => {
    const { port } = await rig();
    const info = await driver.describeFor!({ lcdText: false });
    expect(info.facets).toEqual({ writer: { proofs: ['panel-ack'], nextSlot: false }, reader: false, codeChecker: false, testMode: false, probe: true });
    const session = await open(port);
    expect(facetMismatch(info, session)).toBeUndefined();
    expect(await session.info()).toMatchObject({
      module: 'Envisalink TPI (no keypad text)',
      capabilities: ['users.add', 'users.set-code', 'users.remove', 'probe'],
    });
    await expect(driver.describeFor!({ lcdText: false, module: 'it100' })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/options\.lcdText/),
    });
  });

  it('adds, changes and removes by slot: the code lands, the keypad is idle, no code digit in the trace', async () => {
    const { sim, port } = await rig();
    const traces: string[] = [];
    const session = await open(port, { trace: (d, t) => traces.push(`${d} ${t}`) });
    await session.writer.createUser({ slot: 17, name: '', code: new Secret('7391') });
    expect(sim.state.codes[17]).toBe('7391');
    expect(sim.keypadMode).toBe('idle');
    await session.writer.changeCode(17, new Secret('8462'));
    expect(sim.state.codes[17]).toBe('8462');
    await session.writer.deleteUser(17);
    expect(sim.state.codes[17]).toBeUndefined();
    expect(sim.keypadMode).toBe('idle');
    expect(sim.stats).toMatchObject({ menuEntries: 3, menuExitsByKey: 3, wrongCodes: 0, writes: 3 });
    // Keys only as 071 strings (no arrows), the slot shown and the code digits masked.
    expect(traces).toContain('tx 071 117****');
    expect(traces).toContain('tx 071 117*');
    expect(traces.filter((t) => t.startsWith('tx 071') && /[<>]/.test(t))).toEqual([]);
    expect(traces.filter((t) => /7391|8462|4821/.test(t))).toEqual([]);
  });

  it('refuses the master code as a new code before any key: the panel would refuse it with a tone nobody hears', async () => {
    const { sim, port } = await rig();
    const session = await open(port);
    expect(await failure(session.writer.changeCode(12, new Secret(MASTER)))).toMatchObject({ exitCode: 2, message: expect.stringMatching(/master code/) });
    expect(sim.stats.keystrokes).toBe(0);
  });

  it('a duplicate of another slot is refused by the panel unseen: acknowledged, not landed (why the proof is panel-ack only)', async () => {
    const { sim, port } = await rig();
    const session = await open(port);
    const taken = sim.state.codes[1];
    await session.writer.changeCode(12, new Secret(taken));
    expect(sim.state.codes[12]).toBeUndefined();
    expect(sim.keypadMode).toBe('idle');
  });

  it('a wrong master code: exit 3, sent once, never again in that session; the keypad stays idle', async () => {
    const { sim, port } = await rig();
    const session = await open(port, { code: '5173' });
    expect(await failure(session.writer.changeCode(12, new Secret('7391')))).toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/refused the master code/),
    });
    expect(await failure(session.writer.changeCode(12, new Secret('7391')))).toMatchObject({ exitCode: 3 });
    expect(sim.stats.wrongCodes).toBe(1);
    expect(sim.keypadMode).toBe('idle');
  });

  it('a locked-out keypad (658) is exit 3 naming the lockout', async () => {
    const { sim, port } = await rig({ lockoutAfter: 1, lockoutMs: 60_000 });
    const wrong = await open(port, { code: '5173' });
    expect(await failure(wrong.writer.changeCode(12, new Secret('7391')))).toMatchObject({ exitCode: 3 });
    await wrong.close();
    const session = await open(port);
    expect(await failure(session.writer.changeCode(12, new Secret('7391')))).toMatchObject({ exitCode: 3, code: 'E_LOCKOUT' });
    expect(sim.stats.lockouts).toBe(1);
  });

  it('a module that answers but reports no keypad LEDs is exit 5 at open, not a timeout (exit 4); nothing keyed', async () => {
    const { sim, port } = await rig({ leds: false });
    expect(await failure(open(port))).toMatchObject({ exitCode: 5, message: expect.stringMatching(/keypad LED state \(510\)/) });
    expect(sim.stats.keystrokes).toBe(0);
  });

  it('a [*][5] left open by a dropped line: the next session sees the Program LED lit, leaves with [#], and writes', async () => {
    // A session with the keypad text drops mid-list (as in the e2e test), which leaves the keypad in [*][5].
    const { sim, port } = await rig({ lcdText: true });
    const text = await driver.open({
      link: { kind: 'tcp', host: '127.0.0.1', port, url: '' },
      secrets: { code: new Secret(MASTER), tpiPassword: new Secret(TPI) },
      options: {},
      timeoutMs: 2000,
    });
    rigs.push(text);
    sim.setFaults({ dropAfterKeys: 6 });
    expect(await failure(text.reader!.listUsers())).toMatchObject({ exitCode: 4 });
    expect(sim.keypadMode).toBe('select');
    const exits = sim.stats.menuExitsByKey;
    const next = await open(port);
    expect(sim.keypadMode).toBe('idle');
    expect(sim.stats.menuExitsByKey).toBe(exits + 1);
    await next.writer.changeCode(12, new Secret('7391'));
    expect(sim.state.codes[12]).toBe('7391');
  });

  it('Ctrl-C in [*][5] is E_ABORTED and leaves the menu with [#] first', async () => {
    const { sim, port } = await rig();
    const abort = new AbortController();
    const session = await open(port, { signal: abort.signal, trace: (d, t) => d === 'tx' && t.startsWith('071') && abort.abort() });
    sim.setFaults({ latencyMs: 50 });
    expect(await failure(session.writer.changeCode(12, new Secret('7391')))).toMatchObject({ code: 'E_ABORTED' });
    expect(sim.keypadMode).toBe('idle');
  });
});
