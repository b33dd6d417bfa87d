import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ad2Decoder, type Ad2Frame } from '../../../drivers/vista/codec.js';
import type { KeypadMessage } from '../../../drivers/vista/messages.js';
import { createSimulator } from '../../../drivers/vista/simulator.js';

/** The simulated VISTA-20P behind an AlarmDecoder, spoken to as ser2sock's clients do: raw TCP, keys as characters. */

interface Client {
  frames: Ad2Frame[];
  send(text: string): void;
  /** Resolves with the first frame from now on (or already received after `from`) that `pick` accepts. */
  until<T>(pick: (frame: Ad2Frame) => T | undefined, from?: number): Promise<T>;
  /** Sends V and waits for the version line: everything the panel said before it has arrived. */
  sync(): Promise<number>;
  close(): void;
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function rig(options: Record<string, string | number | boolean> = {}, statePath?: string) {
  const sim = await createSimulator({ statePath, users: 2, options: { masterCode: '4821', statusIntervalMs: 60_000, keyTimeoutMs: 500, ...options } });
  const server = await sim.listenTcp();
  closers.push(async () => {
    await server.close();
    await sim.close();
  });
  return { sim, port: server.port };
}

async function client(port: number): Promise<Client> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new Ad2Decoder();
  decoder.push(Buffer.from('\r\n')); // the simulator starts on a line boundary
  const frames: Ad2Frame[] = [];
  const waiters = new Set<() => void>();
  socket.on('data', (chunk) => {
    frames.push(...decoder.push(chunk));
    for (const w of [...waiters]) w();
  });
  const c: Client = {
    frames,
    send: (text) => socket.write(text),
    until: (pick, from = frames.length) =>
      new Promise((resolve) => {
        const check = () => {
          for (const frame of frames.slice(from)) {
            const picked = pick(frame);
            if (picked !== undefined) {
              waiters.delete(check);
              resolve(picked);
              return;
            }
          }
        };
        waiters.add(check);
        check();
      }),
    async sync() {
      const from = frames.length;
      c.send('V\r');
      await c.until((f) => (f.kind === 'version' ? true : undefined), from);
      return frames.length;
    },
    close: () => socket.destroy(),
  };
  closers.push(() => c.close());
  await c.until((f) => (f.kind === 'keypad' ? true : undefined), 0); // the display it hears on connecting
  return c;
}

const keypad = (frames: Ad2Frame[]): KeypadMessage[] => frames.flatMap((f) => (f.kind === 'keypad' ? [f.message] : []));
const beeped = (frames: Ad2Frame[]) => keypad(frames).some((m) => m.beeps === 1);

describe('the simulated VISTA behind an AlarmDecoder', () => {
  it('answers V with a version line and sends keypad messages for address 18', async () => {
    const { port } = await rig({ statusIntervalMs: 20 });
    const c = await client(port);
    await c.sync();
    expect(c.frames.filter((f) => f.kind === 'version')).toHaveLength(1);
    const status = await c.until((f) => (f.kind === 'keypad' ? f.message : undefined), 0);
    expect(status.text).toBe('****DISARMED****  Ready to Arm  ');
    expect(status.bits.ready).toBe(true);
  });

  it('adds a user on master + 8 + user + code with one beep, and saves the state 0600', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vista-sim-'));
    const statePath = path.join(dir, 'state.json');
    const { sim, port } = await rig({}, statePath);
    const c = await client(port);
    const from = c.frames.length;
    c.send('4821' + '8' + '07' + '6150');
    const ack = await c.until((f) => (f.kind === 'keypad' && f.message.beeps === 1 ? f.message : undefined), from);
    expect(ack.text).toBe('****DISARMED****  Ready to Arm  ');
    expect(sim.state.codes['07']).toBe('6150');
    expect(sim.stats).toMatchObject({ writes: 1, acks: 1, refusals: 0 });
    const saved = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    expect(saved.codes['07']).toBe('6150');
    expect(fs.statSync(statePath).mode & 0o777).toBe(0o600);
  });

  it('changes and deletes (# 0) with one beep each', async () => {
    const { sim, port } = await rig();
    const c = await client(port);
    let from = c.frames.length;
    c.send('4821803' + '9051');
    await c.until((f) => (f.kind === 'keypad' && f.message.beeps === 1 ? true : undefined), from);
    expect(sim.state.codes['03']).toBe('9051');
    from = c.frames.length;
    c.send('4821803#0');
    await c.until((f) => (f.kind === 'keypad' && f.message.beeps === 1 ? true : undefined), from);
    expect(sim.state.codes['03']).toBeUndefined();
    expect(sim.stats.writes).toBe(2);
  });

  it('deletes on a panel that takes no ending once the keypad has been quiet for the key timeout', async () => {
    const { sim, port } = await rig({ deleteKeys: 'wait', keyTimeoutMs: 50 });
    const c = await client(port);
    const from = c.frames.length;
    c.send('4821804');
    await c.until((f) => (f.kind === 'keypad' && f.message.beeps === 1 ? true : undefined), from);
    expect(sim.state.codes['04']).toBeUndefined();
  });

  it('refuses a wrong master code in silence, ignores the rest of that entry, and locks the keypad after three', async () => {
    const { sim, port } = await rig({ lockoutAfter: 3, keyTimeoutMs: 30 });
    const c = await client(port);
    const from = c.frames.length;
    c.send('9999805' + '6150');
    await c.sync();
    expect(beeped(c.frames.slice(from))).toBe(false);
    expect(sim.state.codes['05']).toBeUndefined();
    expect(sim.stats).toMatchObject({ refusals: 1, wrongCodes: 1, writes: 0, lockouts: 0 });
    // The rest of the refused entry ("05" + "6150") is not read as a second wrong code.
    expect(sim.entryStep).toBe('aborted');
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 60)); // the keypad goes quiet: the entry is dropped
      c.send('9999805');
      await c.sync();
    }
    expect(sim.stats.lockouts).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const after = c.frames.length;
    c.send('4821805' + '6150'); // the right code, during the lockout
    await c.sync();
    expect(beeped(c.frames.slice(after))).toBe(false);
    expect(sim.state.codes['05']).toBeUndefined();
  });

  it('refuses a code another user has, a user number out of range, and user 01, each without a beep', async () => {
    const { sim, port } = await rig({ maxUser: 33, lockoutAfter: 99, keyTimeoutMs: 30 });
    const c = await client(port);
    const taken = sim.state.codes['03'];
    for (const keys of [`4821806${taken}`, '48218346150', '48218016150']) {
      const from = c.frames.length;
      c.send(keys);
      await c.sync();
      expect(beeped(c.frames.slice(from)), keys.slice(4)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sim.state.codes['06']).toBeUndefined();
    expect(sim.state.codes['34']).toBeUndefined();
    expect(sim.state.codes['01']).toBe('4112');
    expect(sim.stats).toMatchObject({ refusals: 3, wrongCodes: 0, writes: 0 });
  });

  it('drops a half-typed entry after a pause longer than the key timeout', async () => {
    const { sim, port } = await rig({ keyTimeoutMs: 30 });
    const c = await client(port);
    c.send('48218');
    await c.sync();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(sim.stats.aborts).toBe(1);
    const from = c.frames.length;
    c.send('05' + '6150'); // without the master code these are just digits
    await c.sync();
    expect(beeped(c.frames.slice(from))).toBe(false);
    expect(sim.state.codes['05']).toBeUndefined();
  });

  it('runs the walk test: code + 5 shows the dial-or-walk choice, 0 starts it, code + 1 ends it', async () => {
    const { sim, port } = await rig();
    const c = await client(port);
    let from = c.frames.length;
    c.send('48215');
    const choice = await c.until((f) => (f.kind === 'keypad' ? f.message.text : undefined), from);
    expect(choice).toContain('0 = WALK');
    from = c.frames.length;
    c.send('0');
    const started = await c.until((f) => (f.kind === 'keypad' ? f.message.text : undefined), from);
    expect(started).toContain('TEST IN PROGRESS');
    expect(sim.state.walkTest).toBe(true);
    from = c.frames.length;
    c.send('48211');
    const ended = await c.until((f) => (f.kind === 'keypad' ? f.message.text : undefined), from);
    expect(ended).toBe('****DISARMED****  Ready to Arm  ');
    expect(sim.state.walkTest).toBe(false);
  });

  it('serves several clients as ser2sock does: every line goes to each, keys from any', async () => {
    const { sim, port } = await rig();
    const a = await client(port);
    const b = await client(port);
    const from = b.frames.length;
    a.send('4821809' + '3318');
    await b.until((f) => (f.kind === 'keypad' && f.message.beeps === 1 ? true : undefined), from);
    expect(sim.state.codes['09']).toBe('3318');
    expect(sim.clientCount).toBe(2);
  });

  it('sets the programming bit and ignores keys while an installer is in programming mode', async () => {
    const { sim, port } = await rig({ programming: true, statusIntervalMs: 20 });
    const c = await client(port);
    const status = await c.until((f) => (f.kind === 'keypad' ? f.message : undefined), 0);
    expect(status.bits.programming).toBe(true);
    c.send('4821805' + '6150');
    await c.sync();
    expect(sim.state.codes['05']).toBeUndefined();
    expect(sim.stats.ignoredKeys).toBe(11);
  });
});
