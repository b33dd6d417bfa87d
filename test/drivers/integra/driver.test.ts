import { capabilitiesOf } from '../../../src/core/contract.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../../src/core/contract.js';
import { UnreachableError } from '../../../src/core/errors.js';
import { Secret } from '../../../src/core/secret.js';
import { serveTcp, type TcpServerHandle } from '../../../src/transport/tcp.js';
import type { Link } from '../../../src/core/link.js';
import { driver } from '../../../drivers/integra/driver.js';
import { encodeFrame, IntegraDecoder } from '../../../drivers/integra/codec.js';
import { createSimulator, type IntegraSimulator } from '../../../drivers/integra/simulator.js';
import { asDriverSession, type DriverSession } from '../../support/driver-session.js';
import { failure } from '../../support/failure.js';

/** The driver against the simulator (or a scripted panel) on a real TCP port on 127.0.0.1. */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function panel(options: Parameters<typeof createSimulator>[0] = { users: 5 }): Promise<{ sim: IntegraSimulator; server: TcpServerHandle }> {
  const sim = await createSimulator(options);
  const server = await sim.listenTcp('127.0.0.1', 0);
  cleanups.push(async () => {
    await server.close();
    await sim.close();
  });
  return { sim, server };
}

async function open(port: number, code = '1111', extra: Partial<OpenOptions> = {}): Promise<DriverSession> {
  const session = await driver.open({
    link: { kind: 'tcp', host: '127.0.0.1', port, url: `tcp://127.0.0.1:${port}` },
    secrets: { code: new Secret(code) },
    options: {},
    timeoutMs: 3000,
    ...extra,
  });
  cleanups.push(() => session.close());
  return asDriverSession(session);
}

/** A user with every field set to something unusual, to see that writes leave them alone. */
function oddUser(number: number, code: string) {
  return {
    number,
    name: 'Żaneta Kowalska',
    code,
    phone: '4321',
    type: 10,
    partitions: [2, 5],
    rights: [0x83, 0x12, 0x05],
    zonesIsolating: true,
    simple: true,
    time: 3,
    tempTime: 30,
  };
}

describe('INTEGRA driver description', () => {
  it('declares what the integration protocol offers, and no test mode', () => {
    const info = driver.describe();
    expect(info).toMatchObject({ name: 'integra', transports: ['tcp', 'serial'], defaultTcpPort: 7094, codeRules: { minLength: 4, maxLength: 8 } });
    expect(info.defaultSerial).toEqual({ baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(info.slotRanges).toEqual([
      { from: 1, to: 240, kind: 'user' },
      { from: 241, to: 248, kind: 'master' },
    ]);
    expect(info.facets).toEqual({
      writer: { proofs: ['code-check', 'read-back'], nextSlot: true },
      reader: true,
      codeChecker: true,
      testMode: false,
      probe: true,
    });
    expect(capabilitiesOf(info.facets)).not.toContain('test-mode');
    expect(capabilitiesOf(info.facets)).toEqual(
      expect.arrayContaining(['users.list', 'users.add', 'users.set-code', 'users.remove', 'users.next-slot', 'users.verify-code', 'probe']),
    );
    expect(info.secrets[0]).toEqual({ name: 'code', label: 'INTEGRA user code with the users-editing right', required: true });
    expect(info.options?.map((o) => o.name)).toContain('prefix');
  });
});

describe('INTEGRA driver against the simulator', () => {
  it('reads the model, firmware and module version', async () => {
    const { server } = await panel();
    const info = await (await open(server.port)).info();
    expect(info).toMatchObject({ driver: 'integra', model: 'INTEGRA 128', firmware: '1.21 2018-10-11', module: 'ETHM-1 / INT-RS 2.05 2018-01-11' });
  });

  it('lists users 1..N and the master it logs in as; masters are editable only by the service user', async () => {
    const { server } = await panel({ users: 3 });
    const users = await (await open(server.port)).listUsers();
    expect(users.map((u) => [u.slot, u.kind, u.editable])).toEqual([
      [1, 'user', true],
      [2, 'user', true],
      [3, 'user', true],
      [241, 'master', false],
    ]);
    expect(users[0]).toMatchObject({ name: 'Anna', type: 'normal', partitions: [1], hasCode: true });
    expect(users[2].partitions).toEqual([1, 2]);
    for (const user of users) expect(JSON.stringify(user)).not.toMatch(/code"\s*:/);
  });

  it('as the service user, finds the masters through 0xE0 and may edit them', async () => {
    const { sim, server } = await panel({ users: 1 });
    sim.state.users[243] = { ...oddUser(243, '5555'), name: 'Second master', type: 0 };
    const users = await (await open(server.port, '12345')).listUsers();
    expect(users.map((u) => [u.slot, u.editable])).toEqual([
      [1, true],
      [241, true],
      [243, true],
    ]);
  });

  it('creates a user in the slot asked for, with normal-user defaults', async () => {
    const { sim, server } = await panel();
    const created = await (await open(server.port)).createUser({ slot: 9, name: 'Guard', code: new Secret('604918'), partitions: [1, 3] });
    expect(created).toMatchObject({ slot: 9, kind: 'user', name: 'Guard', type: 'normal', partitions: [1, 3] });
    expect(sim.state.users[9]).toMatchObject({ name: 'Guard', code: '604918', type: 0, partitions: [1, 3], rights: [0x47, 0, 0], time: 0 });
    expect(sim.stats.writes).toBe(1);
  });

  it('without a slot, takes the lowest free one from the users list', async () => {
    const { sim, server } = await panel();
    delete sim.state.users[2];
    const session = await open(server.port);
    expect((await session.createUser({ name: 'Next', code: new Secret('480213') })).slot).toBe(2);
    expect((await session.createUser({ name: 'After', code: new Secret('480214') })).slot).toBe(6);
    expect(sim.state.users[6]).toMatchObject({ name: 'After', partitions: sim.state.users[241].partitions });
  });

  it('changes a code and leaves every other field as it was', async () => {
    const { sim, server } = await panel();
    sim.state.users[7] = oddUser(7, '7777');
    const before = structuredClone(sim.state.users[7]);
    await (await open(server.port)).changeCode(7, new Secret('95173'));
    expect(sim.state.users[7]).toEqual({ ...before, code: '95173' });
  });

  it('removes a user, and then reads that slot as empty', async () => {
    const { sim, server } = await panel();
    const session = await open(server.port);
    await session.deleteUser(4);
    expect(sim.state.users[4]).toBeUndefined();
    expect(await session.readUser(4)).toBeUndefined();
  });

  it('proves a new code with 0xE0 for a user with the GUARDX right, and with 0xE1 as that user for others', async () => {
    const { sim, server } = await panel();
    sim.state.users[7] = oddUser(7, '7777'); // rights byte 3 has GUARDX (0x04)
    const session = await open(server.port);
    expect(await session.verifyCode!(7, new Secret('7777'))).toBe(true);

    const framesBefore = sim.stats.framesIn;
    expect(await session.verifyCode!(1, new Secret(sim.state.users[1].code))).toBe(true); // no GUARDX: 0xE1 as user 1
    expect(sim.stats.framesIn - framesBefore).toBe(2); // the 0xE1 read, then 0xE1 with the code, sent once
    const absent = await failure(session.verifyCode!(1, new Secret('9081726')));
    expect(absent.code).toBe('E_VERIFY'); // a code nobody has: proof it is not in the slot

    const error = await failure(session.verifyCode!(7, new Secret('7778')));
    expect(error.code).toBe('E_VERIFY');
    expect(error.message).not.toContain('7778');
  });

  it('uses the 8-byte prefix + code form when a prefix is configured', async () => {
    const { server } = await panel({ users: 1, options: { prefix: '987' } });
    const withPrefix = await open(server.port, '1111', { options: { prefix: '987' } });
    expect((await withPrefix.listUsers()).length).toBe(2);
    await withPrefix.close(); // the panel serves one client at a time
    const error = await failure((await open(server.port)).listUsers());
    expect(error.code).toBe('E_WRONG_CREDENTIAL');
  });

  it('traces frames as hex with every code byte masked', async () => {
    const { sim, server } = await panel();
    sim.state.users[241].code = '73918264';
    const lines: string[] = [];
    const session = await open(server.port, '73918264', { trace: (direction, text) => lines.push(`${direction} ${text}`) });
    await session.createUser({ slot: 8, name: 'Traced', code: new Secret('604918') });
    await session.changeCode(8, new Secret('615243'));
    expect(lines.some((line) => line.startsWith('tx e6 ** ** ** ** ** ** ** ** 08 ** ** ** **'))).toBe(true);
    expect(lines.some((line) => line.startsWith('rx ef 00'))).toBe(true);
    for (const needle of ['73 91 82 64', '60 49 18', '61 52 43']) expect(lines.join('\n')).not.toContain(needle);
  });
});

describe('INTEGRA refusals (0xEF results, page 19)', () => {
  it('0x01: an unknown requesting code is a wrong credential, sent once and never retried', async () => {
    const { sim, server } = await panel();
    const error = await failure((await open(server.port, '99999')).deleteUser(1));
    expect(error).toMatchObject({ code: 'E_WRONG_CREDENTIAL', exitCode: 3, data: { panelResult: '0x01' } });
    expect(error.message).not.toContain('99999');
    expect(sim.stats.framesIn).toBe(1);
    expect(sim.state.users[1]).toBeDefined();
  });

  it('0x01 from self-info also names the missing GUARDX right', async () => {
    const { sim, server } = await panel();
    const error = await failure((await open(server.port, sim.state.users[1].code)).listUsers());
    expect(error.code).toBe('E_WRONG_CREDENTIAL');
    expect(error.message).toMatch(/GUARDX/);
  });

  it('0x02: a user editor may not touch users outside its partitions', async () => {
    const { sim, server } = await panel();
    sim.state.users[10] = { ...oddUser(10, '1010'), partitions: [1], rights: [0x80, 0, 0x04], type: 0 };
    const error = await failure((await open(server.port, '1010')).deleteUser(3)); // user 3 is in partitions 1 and 2
    expect(error).toMatchObject({ code: 'E_NO_RIGHTS', exitCode: 3, data: { panelResult: '0x02' } });
    expect(sim.state.users[3]).toBeDefined();
  });

  it('0x03: changing or removing a user that does not exist', async () => {
    const { server } = await panel();
    const session = await open(server.port);
    expect((await failure(session.deleteUser(200))).code).toBe('E_NO_SUCH_USER');
    expect((await failure(session.changeCode(200, new Secret('4826')))).code).toBe('E_NO_SUCH_USER');
  });

  it('0x04: creating in a slot that is taken', async () => {
    const { sim, server } = await panel();
    const error = await failure((await open(server.port)).createUser({ slot: 1, name: 'Dup', code: new Secret('482613') }));
    expect(error).toMatchObject({ code: 'E_SLOT_TAKEN', data: { panelResult: '0x04' } });
    expect(sim.state.users[1].name).toBe('Anna');
  });

  it('0x05: a code that another user already has', async () => {
    const { sim, server } = await panel();
    const taken = sim.state.users[2].code;
    const session = await open(server.port);
    const error = await failure(session.createUser({ slot: 20, name: 'Clash', code: new Secret(taken) }));
    expect(error).toMatchObject({ code: 'E_CODE_REJECTED', data: { panelResult: '0x05' } });
    expect(error.message).not.toContain(taken);
    expect((await failure(session.changeCode(3, new Secret('12345')))).code).toBe('E_CODE_REJECTED'); // the service code
  });

  it('0x07: a new code equal to the current one', async () => {
    const { sim, server } = await panel();
    const error = await failure((await open(server.port)).changeCode(2, new Secret(sim.state.users[2].code)));
    expect(error).toMatchObject({ code: 'E_CODE_UNCHANGED', data: { panelResult: '0x07' } });
  });

  it('maps every result code a scripted panel gives (0x06, 0x08, 0x11, 0x12, 0x8x) and treats 0x00 / 0xFF as accepted', async () => {
    let result = 0;
    const server = await serveTcp('127.0.0.1', 0, (stream) => {
      const decoder = new IntegraDecoder();
      stream.onData((chunk) => {
        for (const frame of decoder.push(chunk)) if (frame.kind === 'frame') void stream.write(encodeFrame(0xef, [result]));
      });
    });
    cleanups.push(() => server.close());
    const session = await open(server.port);
    const expected: Array<[number, string]> = [
      [0x06, 'E_PHONE_CODE_EXISTS'],
      [0x08, 'E_PANEL_ERROR'],
      [0x11, 'E_CANNOT_ARM'],
      [0x12, 'E_CANNOT_ARM'],
      [0x8c, 'E_PANEL_ERROR'],
    ];
    for (const [code, name] of expected) {
      result = code;
      const error = await failure(session.deleteUser(5));
      expect(error.code).toBe(name);
      expect(error.exitCode).toBe(3);
      expect(error.data?.panelResult).toBe(`0x${code.toString(16).toUpperCase().padStart(2, '0')}`);
    }
    result = 0x8c;
    expect((await failure(session.deleteUser(5))).message).toContain('0x8C');
    for (const ok of [0x00, 0xff]) {
      result = ok;
      await expect(session.deleteUser(5)).resolves.toBeUndefined();
    }
  });
});

describe('INTEGRA link faults', () => {
  it('a second client is told the panel is busy', async () => {
    const { sim, server } = await panel();
    const first = await open(server.port);
    await first.listUsers();
    const error = await failure((await open(server.port)).listUsers());
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error).toMatchObject({
      code: 'E_BUSY',
      exitCode: 4,
      transient: true,
      message: 'panel busy: another client (integration or DLOADX session) is connected',
    });
    expect(sim.stats.refusedClients).toBe(1);
    expect((await first.listUsers()).length).toBe(6); // the first client is still served
  });

  it('a lost answer is a timeout; the write behind it still happened (so callers read back)', async () => {
    const { sim, server } = await panel();
    const session = await open(server.port, '1111', { timeoutMs: 600 });
    sim.setFaults({ dropReplies: 1 });
    const error = await failure(session.deleteUser(3));
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: 4 });
    expect(error.message).not.toMatch(/corrupted/);
    expect(sim.state.users[3]).toBeUndefined();
    expect(await session.readUser(3)).toBeUndefined(); // the session goes on after a timeout
  });

  it('answers with a bad CRC are dropped and the timeout says so', async () => {
    const { sim, server } = await panel();
    const session = await open(server.port, '1111', { timeoutMs: 600 });
    sim.setFaults({ corruptCrc: 1 });
    const error = await failure(session.readUser(1));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toMatch(/1 corrupted frame\(s\) dropped/);
    expect((await session.readUser(1))?.name).toBe('Anna');
  });

  it('a connection reset in mid-command is E_LOST', async () => {
    const { sim, server } = await panel();
    const session = await open(server.port);
    sim.setFaults({ resetAfterFrames: 2 });
    const error = await failure(session.listUsers());
    expect(error).toMatchObject({ code: 'E_LOST', exitCode: 4 });
    expect(sim.stats.framesIn).toBe(2);
  });

  it('works through latency shorter than the timeout', async () => {
    const { sim, server } = await panel({ users: 2, options: { latencyMs: 150 } });
    const users = await (await open(server.port)).listUsers();
    expect(users.map((u) => u.slot)).toEqual([1, 2, 241]);
    expect(sim.stats.framesIn).toBe(5);
  });
});

describe('INTEGRA probe', () => {
  it('identifies the panel on an open stream', async () => {
    const { server } = await panel();
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' };
    expect(await driver.probe!(link, { timeoutMs: 3000 })).toEqual({ driver: 'integra', model: 'INTEGRA 128', firmware: '1.21 2018-10-11' });
  });

  it('returns undefined when nothing answers', async () => {
    const server = await serveTcp('127.0.0.1', 0, () => undefined);
    cleanups.push(() => server.close());
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' };
    expect(await driver.probe!(link, { timeoutMs: 300 })).toBeUndefined();
  });
});

describe('INTEGRA answers that are not the answer to the question asked (issue 14 item 2)', () => {
  /** A panel that answers every frame through `reply` (the frame's cmd and data in, raw bytes out). */
  async function scripted(reply: (cmd: number, data: Buffer) => Buffer | undefined): Promise<TcpServerHandle> {
    const server = await serveTcp('127.0.0.1', 0, (stream) => {
      const decoder = new IntegraDecoder();
      stream.onData((chunk) => {
        for (const frame of decoder.push(chunk)) {
          const bytes = frame.kind === 'frame' ? reply(frame.cmd, frame.data) : undefined;
          if (bytes) void stream.write(bytes);
        }
      });
    });
    cleanups.push(() => server.close());
    return server;
  }

  it('our own request echoed back is E_ECHO (exit 5) with a hint, for every command', async () => {
    const server = await scripted((cmd, data) => encodeFrame(cmd, data));
    const session = await open(server.port, '73918264');
    for (const attempt of [() => session.info(), () => session.listUsers(), () => session.readUser(5), () => session.deleteUser(5)]) {
      const error = await failure(attempt());
      expect(error).toMatchObject({ code: 'E_ECHO', exitCode: 5 });
      expect(error.hint).toMatch(/echo/);
    }
  });

  it('a 0xE1 answer of the wrong length, or about another user, is E_BAD_ANSWER; nothing is made of it', async () => {
    const { sim } = await panel();
    const record = sim.answer(0xe1, Buffer.concat([Buffer.from('1111ffffffffffff', 'hex'), Buffer.from([1])]))!;
    let variant: 'short' | 'other-user' = 'short';
    const server = await scripted((cmd, data) => {
      if (cmd !== 0xe1) return undefined;
      const body = Buffer.from(record.subarray(1));
      if (variant === 'short') return encodeFrame(0xe1, body.subarray(0, 20));
      body[0] = data[data.length - 1] + 1;
      return encodeFrame(0xe1, body);
    });
    const session = await open(server.port);
    expect(await failure(session.readUser(1))).toMatchObject({ code: 'E_BAD_ANSWER', exitCode: 5 });
    variant = 'other-user';
    const error = await failure(session.readUser(1));
    expect(error).toMatchObject({ code: 'E_BAD_ANSWER', exitCode: 5 });
    expect(error.message).toContain('not user 1');
  });

  it('a 0x7E answer without its 14 bytes is not a panel model ("type undefined" before)', async () => {
    const server = await scripted((cmd) => (cmd === 0x7e ? encodeFrame(0x7e, [3]) : undefined));
    const session = await open(server.port);
    expect(await failure(session.info())).toMatchObject({ code: 'E_BAD_ANSWER', exitCode: 5 });
  });

  it('--debug shows an echoed request by command and length only, never its code bytes', async () => {
    const server = await scripted((cmd, data) => encodeFrame(cmd, data));
    const lines: string[] = [];
    const session = await open(server.port, '73918264', { trace: (direction, text) => lines.push(`${direction} ${text}`) });
    await failure(session.listUsers());
    expect(lines.join('\n')).not.toMatch(/73 91|82 64/);
    expect(lines.find((l) => l.startsWith('rx'))).toMatch(/not shown/);
  });

  it('probe does not take an echo for an INTEGRA', async () => {
    const server = await scripted((cmd, data) => encodeFrame(cmd, data));
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' };
    expect(await driver.probe!(link, { timeoutMs: 1000 })).toBeUndefined();
  });

  it('an ETHM-1 Plus link that echoes the encrypted PDUs is E_ECHO, not "wrong key"', async () => {
    const server = await serveTcp('127.0.0.1', 0, (stream) => stream.onData((chunk) => void stream.write(chunk)));
    cleanups.push(() => server.close());
    const session = await open(server.port, '73918264', {
      secrets: { code: new Secret('73918264'), integrationKey: new Secret('Vq7#ETHMplus') },
      timeoutMs: 300,
    });
    expect(await failure(session.info())).toMatchObject({ code: 'E_ECHO', exitCode: 5 });
  });
});
