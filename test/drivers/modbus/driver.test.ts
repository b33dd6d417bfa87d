import { capabilitiesOf } from '../../../src/core/contract.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpenOptions } from '../../../src/core/contract.js';
import { ExitCode, ValidationError } from '../../../src/core/errors.js';
import type { Link } from '../../../src/core/link.js';
import { Secret } from '../../../src/core/secret.js';

import { serveSerial } from '../../../src/transport/serial.js';
import { driver } from '../../../drivers/modbus/driver.js';
import { listOffsets, planReads, slotAddress } from '../../../drivers/modbus/layout.js';
import { loadProfile } from '../../../drivers/modbus/profile.js';
import { createSimulator, type ModbusSimulator } from '../../../drivers/modbus/simulator.js';
import { createSimulator as createIntegra } from '../../../drivers/integra/simulator.js';
import { haveSocat, makePtyPair } from '../../support/pty-pair.js';
import { profileVariant } from './support.js';
import { asDriverSession, type DriverSession } from '../../support/driver-session.js';
import { failure } from '../../support/failure.js';

/** The driver against the simulator over real sockets (and a pty pair for RTU). */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const demo = (await loadProfile('demo-modbus')).profile;

interface Rig {
  sim: ModbusSimulator;
  link: Link;
  open(options?: Partial<OpenOptions> & { profile?: string; unit?: number }): Promise<DriverSession>;
}

async function tcpRig(simOptions: Record<string, string | number | boolean> = {}, users = 5): Promise<Rig> {
  const sim = await createSimulator({ users, options: simOptions });
  const server = await sim.listenTcp('127.0.0.1', 0);
  cleanups.push(async () => {
    await server.close();
    await sim.close();
  });
  const link: Link = { kind: 'tcp', host: '127.0.0.1', port: server.port, url: `tcp://127.0.0.1:${server.port}` };
  return { sim, link, open: (o = {}) => openSession(link, { profile: (simOptions.profile as string) ?? 'demo-modbus', ...o }) };
}

async function openSession(link: Link, o: Partial<OpenOptions> & { profile?: string; unit?: number; framing?: string }): Promise<DriverSession> {
  const { profile, unit, framing, ...rest } = o;
  const session = await driver.open({
    link,
    secrets: {},
    options: { profile: profile ?? 'demo-modbus', ...(unit !== undefined ? { unit } : {}), ...(framing ? { framing } : {}) },
    timeoutMs: 1500,
    ...rest,
  });
  cleanups.push(() => session.close());
  return asDriverSession(session);
}

const code = (digits: string) => new Secret(digits, 'test code');

describe('driver description', () => {
  it('says what it can do without connecting: test mode included, no credential needed', () => {
    const info = driver.describe();
    expect(capabilitiesOf(info.facets)).toEqual(expect.arrayContaining(['users.list', 'users.add', 'users.set-code', 'users.remove', 'test-mode', 'probe']));
    expect(info.secrets).toEqual([]);
    expect(info.defaultTcpPort).toBe(502);
    expect(info.defaultSerial).toEqual({ baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 });
    expect(info.codeRules).toEqual({ minLength: 4, maxLength: 8 });
  });

  it('refuses a missing or broken profile and a bad unit before connecting', async () => {
    const nowhere: Link = { kind: 'tcp', host: '127.0.0.1', port: 1, url: 'tcp://127.0.0.1:1' };
    await expect(driver.open({ link: nowhere, secrets: {}, options: {}, timeoutMs: 500 })).rejects.toThrow(/options.profile: is required/);
    await expect(driver.open({ link: nowhere, secrets: {}, options: { profile: 'demo-modbus', unit: 300 }, timeoutMs: 500 })).rejects.toThrow(
      /options.unit: must be a Modbus unit id/,
    );
    await expect(driver.open({ link: nowhere, secrets: {}, options: { profile: 'demo-modbus', framing: 'ascii' }, timeoutMs: 500 })).rejects.toThrow(
      /options.framing: must be mbap or rtu/,
    );
    const serial: Link = { kind: 'serial', path: '/dev/null-modbus', url: 'serial:///dev/null-modbus' };
    await expect(driver.open({ link: serial, secrets: {}, options: { profile: 'demo-modbus', unit: 0 }, timeoutMs: 500 })).rejects.toThrow(
      /unit 0 is broadcast/,
    );
  });
});

describe('users through the profile, over Modbus TCP', () => {
  it('reads identification into info(): model, firmware, serial, the profile slot range and code rule', async () => {
    const rig = await tcpRig();
    const info = await (await rig.open()).info();
    expect(info).toMatchObject({
      driver: 'modbus',
      model: 'PCX-1000',
      firmware: '1.4',
      module: 'Modbus TCP unit 1',
      slotRanges: [{ from: 1, to: 1000, kind: 'user' }],
      codeRules: { minLength: 4, maxLength: 6 },
    });
    expect(info.details).toMatchObject({ profile: 'demo-modbus', serial: '100042', slots: 1000 });
    expect(info.capabilities).toContain('test-mode');
  });

  it('lists 1,000 slots in the fewest requests the limits allow, reporting hasCode, never codes', async () => {
    const rig = await tcpRig({}, 12);
    const session = await rig.open();
    const before = rig.sim.stats.requests;
    const users = await session.listUsers();
    const minimum = planReads(
      Array.from({ length: 1000 }, (_, i) => listOffsets(demo.users).map((o) => slotAddress(demo.users, i + 1) + o)).flat(),
      125,
    ).length;
    expect(rig.sim.stats.requests - before).toBe(minimum);
    expect(users).toHaveLength(12);
    expect(users[2]).toEqual({ slot: 3, kind: 'user', name: 'Ingrid', type: 'normal', partitions: [1, 2], hasCode: true, editable: true });
    expect(JSON.stringify(users)).not.toMatch(/code"\s*:\s*"/);
  });

  it('adds a user with one function-16 write plus the apply register, and proves the code by reading it back', async () => {
    const rig = await tcpRig();
    const session = await rig.open();
    const writes = rig.sim.stats.writes;
    const created = await session.createUser({ slot: 20, name: 'Cleaner', code: code('583016'), partitions: [1, 2], type: 'supervisor' });
    expect(created).toMatchObject({ slot: 20, kind: 'supervisor', name: 'Cleaner', partitions: [1, 2], hasCode: true });
    expect(rig.sim.stats.writes - writes).toBe(2);
    expect(rig.sim.stats.writeLog.slice(-2)).toEqual([
      { fc: 16, address: slotAddress(demo.users, 20), count: 13 },
      { fc: 6, address: 100, count: 1 },
    ]);
    expect(rig.sim.user(20)).toEqual({ name: 'Cleaner', code: '583016', enabled: true, hasCode: true, type: 'supervisor', partitions: [1, 2] });
    expect(await session.readUser(20)).toMatchObject({ slot: 20, name: 'Cleaner', hasCode: true });
    expect(await session.verifyCode!(20, code('583016'))).toBe(true);
    await expect(session.verifyCode!(20, code('583017'))).rejects.toThrow(/do not read back as the code written/);
  });

  it('picks the lowest free slot when none is given, reading no further than needed', async () => {
    const rig = await tcpRig({}, 3);
    const session = await rig.open();
    const before = rig.sim.stats.functions[3] ?? 0;
    expect((await session.createUser({ name: 'Next', code: code('640271') })).slot).toBe(4);
    expect(rig.sim.user(4)).toMatchObject({ name: 'Next', partitions: [1], type: 'normal' });
    expect((rig.sim.stats.functions[3] ?? 0) - before).toBe(2); // the first block of flags, then the record
  });

  it('finds a free slot far down a full table, and says when there is none', async () => {
    const { file } = await profileVariant('small', (p) => (p.users.slots = 40));
    const rig = await tcpRig({ profile: file }, 39);
    const session = await rig.open();
    expect((await session.createUser({ name: 'Last', code: code('640271') })).slot).toBe(40);
    expect((await failure(session.createUser({ name: 'Over', code: code('640272') }))).code).toBe('E_FULL');
  });

  it('changes only the code registers, and removes a user by clearing the slot', async () => {
    const rig = await tcpRig();
    const session = await rig.open();
    const before = rig.sim.user(2)!;
    await session.changeCode(2, code('719350'));
    expect(rig.sim.stats.writeLog.slice(-2)).toEqual([
      { fc: 16, address: slotAddress(demo.users, 2) + 11, count: 2 },
      { fc: 6, address: 100, count: 1 },
    ]);
    expect(rig.sim.user(2)).toEqual({ ...before, code: '719350' });
    await session.deleteUser(2);
    expect(rig.sim.user(2)).toBeUndefined();
    expect(await session.readUser(2)).toBeUndefined();
  });

  it('enforces the profile: code length, name, type, partitions and slot range, before writing anything', async () => {
    const rig = await tcpRig();
    const session = await rig.open();
    const writes = rig.sim.stats.writes;
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [session.createUser({ slot: 30, name: 'X', code: code('5830167') }), /^code: must be 4 to 6 digits on this device \(profile demo-modbus\)$/],
      [session.changeCode(1, code('12345678')), /^code: must be 4 to 6 digits/],
      [session.createUser({ slot: 30, name: 'A name that is far too long', code: code('583016') }), /^--name: must be at most 16 characters/],
      [session.createUser({ slot: 30, name: 'Zoë', code: code('583016') }), /^--name: must be plain ASCII/],
      [session.createUser({ slot: 30, name: 'X', code: code('583016'), type: 'master' }), /^--type: must be one of normal, duress, supervisor/],
      [session.createUser({ slot: 30, name: 'X', code: code('583016'), partitions: [9] }), /^--partitions: must be partitions 1..8/],
      [session.createUser({ slot: 1001, name: 'X', code: code('583016') }), /^--slot: must be 1-1000 on this device/],
      [session.readUser(0), /^--slot: must be 1-1000/],
    ];
    for (const [promise, message] of cases) {
      const error = await failure(promise);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.message).toMatch(message);
    }
    expect(rig.sim.stats.writes).toBe(writes);
  });

  it('refuses a taken slot, a missing user, and a code another user has (the device says illegal value)', async () => {
    const rig = await tcpRig();
    const session = await rig.open();
    expect((await failure(session.createUser({ slot: 1, name: 'X', code: code('583016') }))).code).toBe('E_SLOT_TAKEN');
    expect((await failure(session.changeCode(99, code('583016')))).code).toBe('E_NO_SUCH_USER');
    expect((await failure(session.deleteUser(99))).code).toBe('E_NO_SUCH_USER');
    const duplicate = await failure(session.changeCode(2, code(rig.sim.user(1)!.code!)));
    expect(duplicate).toMatchObject({ code: 'E_CODE_REJECTED', exitCode: ExitCode.refused });
    expect(duplicate.message).toMatch(
      /the device refused the write to slot 2: the code may already belong to another user.*Modbus exception 3, illegal data value/,
    );
    expect(duplicate.message).not.toContain(rig.sim.user(1)!.code!);
  });
});

describe('Modbus exceptions and silence become typed errors in plain words', () => {
  const cases: Array<[string, Record<string, string | number>, (s: DriverSession) => Promise<unknown>, string, number, RegExp]> = [
    [
      '1 illegal function',
      { exceptionCode: 1 },
      (s) => s.listUsers(),
      'E_MODBUS_ILLEGAL_FUNCTION',
      ExitCode.protocol,
      /does not support function 3 \(read holding registers\) while reading the user table \(Modbus exception 1, illegal function\)/,
    ],
    [
      '2 illegal address',
      { exceptionCode: 2 },
      (s) => s.readUser(3),
      'E_MODBUS_ILLEGAL_ADDRESS',
      ExitCode.protocol,
      /the device has no registers 1032..1042 while reading slot 3 \(Modbus exception 2, illegal data address\)/,
    ],
    [
      '3 illegal value on a read',
      { exceptionCode: 3 },
      (s) => s.info(),
      'E_MODBUS_ILLEGAL_VALUE',
      ExitCode.protocol,
      /refused to read registers 0..11 while reading the identification registers/,
    ],
    [
      '3 illegal value on a write',
      { exceptionCode: 3, exceptionOn: 'write' },
      (s) => s.deleteUser(2),
      'E_MODBUS_ILLEGAL_VALUE',
      ExitCode.refused,
      /refused the value written to registers 1016..1028 while removing user 2 \(Modbus exception 3/,
    ],
    ['4 device failure', { exceptionCode: 4 }, (s) => s.listUsers(), 'E_DEVICE_FAILURE', ExitCode.refused, /internal failure/],
    [
      '6 device busy',
      { exceptionCode: 6 },
      (s) => s.listUsers(),
      'E_BUSY',
      ExitCode.unreachable,
      /the device is busy and did not act while reading the user table \(Modbus exception 6, server device busy\)/,
    ],
  ];
  for (const [name, faults, action, errorCode, exitCode, message] of cases) {
    it(`exception ${name}`, async () => {
      const rig = await tcpRig();
      const session = await rig.open();
      rig.sim.setFaults({ exceptionCount: 1, exceptionOn: 'any', ...faults } as never);
      const error = await failure(action(session));
      expect(error.code).toBe(errorCode);
      expect(error.exitCode).toBe(exitCode);
      expect(error.message).toMatch(message);
    });
  }

  it('a unit id nobody answers to: a timeout whose hint is the unit id (gateway exception 11 on TCP)', async () => {
    const rig = await tcpRig();
    const error = await failure((await rig.open({ unit: 9 })).listUsers());
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: ExitCode.unreachable });
    expect(error.message).toMatch(/gateway got no answer from Modbus unit 9/);
    expect(error.hint).toMatch(/options.unit, now 9/);
  });

  it('an answer from the wrong unit is not taken: the timeout says who answered', async () => {
    const rig = await tcpRig();
    const session = await rig.open({ timeoutMs: 500 });
    rig.sim.setFaults({ wrongUnitReplies: 1 });
    const error = await failure(session.readUser(1));
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toMatch(/no answer from Modbus unit 1 within 500 ms .*; a device answered as unit 2 instead/);
    expect(error.hint).toMatch(/unit id/);
    expect(await session.readUser(1)).toMatchObject({ name: 'Anna' }); // the session goes on
  });

  it('silence is a timeout (exit 4), and a closed connection is a lost device, at once', async () => {
    const rig = await tcpRig();
    const session = await rig.open({ timeoutMs: 400 });
    rig.sim.setFaults({ dropReplies: 1 });
    expect((await failure(session.readUser(1))).code).toBe('E_TIMEOUT');
    rig.sim.setFaults({ latencyMs: 3000 });
    const patient = await rig.open({ timeoutMs: 5000 });
    setTimeout(() => void rig.sim.close(), 100);
    // At once, not at the timeout: that would be E_TIMEOUT (no clock is read; a wall-clock bound flakes under load).
    const lost = await failure(patient.readUser(1));
    expect(lost).toMatchObject({ code: 'E_LOST', exitCode: ExitCode.unreachable });
    expect(lost.message).toMatch(/lost the device: the connection closed/);
  });
});

describe('profiles with other layouts and limits', () => {
  it('a device without function 16: one function 6 per register, flags written last on add and first on remove', async () => {
    const { file } = await profileVariant('fc6-only', (p) => (p.limits.writeMultiple = false));
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    await session.createUser({ slot: 7, name: 'Six', code: code('640271') });
    const base = slotAddress(demo.users, 7);
    const adds = rig.sim.stats.writeLog.slice(-14);
    expect(adds.every((w) => w.fc === 6)).toBe(true);
    expect(adds.at(-2)).toEqual({ fc: 6, address: base, count: 1 }); // flags, just before the apply register
    expect(rig.sim.user(7)).toMatchObject({ name: 'Six', code: '640271' });
    await session.deleteUser(7);
    expect(rig.sim.stats.writeLog.slice(-14)[0]).toEqual({ fc: 6, address: base, count: 1 });
    expect(rig.sim.user(7)).toBeUndefined();
  });

  it('a small write limit splits a record into several function-16 writes, flags last', async () => {
    const { file } = await profileVariant('small-writes', (p) => (p.limits.maxWriteRegisters = 4));
    const rig = await tcpRig({ profile: file });
    await (await rig.open()).createUser({ slot: 8, name: 'Split', code: code('640271') });
    const log = rig.sim.stats.writeLog.slice(-5); // 12 registers in three writes of 4, the flags, the apply register
    expect(log.slice(0, 3).every((w) => w.fc === 16 && w.count === 4)).toBe(true);
    expect(log.at(-2)).toEqual({ fc: 6, address: slotAddress(demo.users, 8), count: 1 });
    expect(rig.sim.user(8)).toMatchObject({ name: 'Split' });
  });

  it('a smaller read limit: still the fewest requests that limit allows', async () => {
    const { file, loaded } = await profileVariant('small-reads', (p) => (p.limits.maxReadRegisters = 40));
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    const before = rig.sim.stats.requests;
    await session.listUsers();
    const u = loaded.profile.users;
    expect(rig.sim.stats.requests - before).toBe(
      planReads(Array.from({ length: u.slots }, (_, i) => listOffsets(u).map((o) => slotAddress(u, i + 1) + o)).flat(), 40).length,
    );
  });

  it('ASCII-digit codes, no codeSet flag (hasCode from the code registers) and no apply register', async () => {
    const { file } = await profileVariant('ascii', (p) => {
      Object.assign(p.users.code, { offset: 11, registers: 4, encoding: 'ascii', minLength: 4, maxLength: 8 });
      delete p.users.flags.codeSet;
      delete p.apply;
    });
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    await session.createUser({ slot: 9, name: 'Ascii', code: code('04711853') });
    expect(rig.sim.stats.writeLog.at(-1)).toMatchObject({ fc: 16 }); // no apply write
    expect(rig.sim.user(9)).toMatchObject({ code: '04711853', hasCode: true });
    expect((await session.listUsers()).find((u) => u.slot === 9)).toMatchObject({ hasCode: true });
    expect(await session.verifyCode!(9, code('04711853'))).toBe(true);
  });

  it('32-bit integer codes of fixed length keep their leading zero; low word first', async () => {
    const { file } = await profileVariant('u32', (p) => {
      Object.assign(p.users.code, { encoding: 'uint32', minLength: 6, maxLength: 6 });
      p.wordOrder = 'low-first';
    });
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    await session.createUser({ slot: 9, name: 'Int', code: code('045127') });
    expect(rig.sim.user(9)).toMatchObject({ code: '045127' });
    expect(await session.verifyCode!(9, code('045127'))).toBe(true);
    expect((await failure(session.changeCode(9, code('45127')))).message).toMatch(/code: must be 6 digits on this device/);
  });

  it('unreadable code registers: verifyCode says it cannot prove it (false), and never fails on it', async () => {
    const { file } = await profileVariant('hidden', (p) => (p.users.code.readable = false));
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    expect(await session.verifyCode!(1, code('999999'))).toBe(false);
  });

  it('waits the profile inter-request delay between requests', async () => {
    const { file } = await profileVariant('slow', (p) => (p.limits.interRequestDelayMs = 40));
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    const started = Date.now();
    for (let slot = 1; slot <= 4; slot++) await session.readUser(slot);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 40);
  });
});

describe('test mode through the profile', () => {
  it('starts for seconds, reports active with an end time, and the device ends it by itself', async () => {
    const rig = await tcpRig();
    const session = await rig.open();
    expect(await session.testMode!.status()).toEqual({ active: false, mode: 'walk test' });
    const started = await session.testMode!.start({ minutes: 2 / 60 });
    expect(started.active).toBe(true);
    expect(started.mode).toBe('walk test');
    expect(Date.parse(started.endsAt!) - Date.now()).toBeGreaterThan(500);
    expect(Date.parse(started.endsAt!) - Date.now()).toBeLessThan(3000);
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect((await session.testMode!.status()).active).toBe(false);
  });

  it('stops on request, and refuses durations the register cannot hold', async () => {
    const rig = await tcpRig();
    const session = await rig.open();
    await session.testMode!.start({ minutes: 45 });
    expect(rig.sim.testModeActive).toBe(true);
    expect(await session.testMode!.stop()).toEqual({ active: false, mode: 'walk test' });
    expect(rig.sim.testModeActive).toBe(false);
    await expect(session.testMode!.start({ minutes: 0.001 })).rejects.toThrow(/--for: must be at least 1 second/);
  });

  it('a register-controlled test mode counted in minutes', async () => {
    const { file } = await profileVariant('register-test', (p) => {
      p.testMode = {
        mode: 'engineer test',
        control: { register: 210, on: 5, off: 0 },
        duration: { address: 211, registers: 1, unit: 'minutes' },
        status: { register: 210, active: 5 },
      };
    });
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    const state = await session.testMode!.start({ minutes: 1.5 });
    expect(state).toEqual({ active: true, mode: 'engineer test' });
    expect(rig.sim.holding[211]).toBe(2); // rounded up to whole minutes
    expect((await session.testMode!.stop()).active).toBe(false);
  });

  it('a profile without test mode: the session offers none, as the description for that profile says', async () => {
    const { file } = await profileVariant('no-test', (p) => delete p.testMode);
    const rig = await tcpRig({ profile: file });
    const session = await rig.open();
    expect(session.testMode).toBeUndefined();
    expect((await driver.describeFor!({ profile: file })).facets.testMode).toBe(false);
    expect((await session.info()).capabilities).not.toContain('test-mode');
  });
});

describe('--debug traces', () => {
  it('show every frame but never the code registers, nor the CRC that would give them away', async () => {
    const rig = await tcpRig();
    const lines: string[] = [];
    const session = await rig.open({ trace: (direction, text) => lines.push(`${direction} ${text}`) });
    await session.createUser({ slot: 20, name: 'Cleaner', code: code('583016') });
    await session.changeCode(20, code('719350'));
    await session.verifyCode!(20, code('719350'));
    await session.listUsers();
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(all).toContain('**');
    for (const secret of ['58 30', '30 16', '71 93', '93 50', '16 ff', '50 ff']) expect(all).not.toContain(secret);
    expect(all).toMatch(/tx \[[0-9a-f]{4}\] 01 10 05 18 00 0d 1a/); // the FC16 header itself is shown
  });
});

describe('probe', () => {
  it('recognises the device from its identification registers over TCP, reading only', async () => {
    const rig = await tcpRig();
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: rig.link.kind === 'tcp' ? rig.link.port! : 0, url: '' };
    expect(await driver.probe!(link, { timeoutMs: 1000 })).toEqual({ driver: 'modbus', model: 'PCX-1000 (profile demo-modbus, unit 1)', firmware: '1.4' });
    expect(rig.sim.stats.writes).toBe(0);
  });

  it('names a Modbus device no shipped profile fits', async () => {
    const { file } = await profileVariant('other', (p) => (p.identification.model.expect = 'ZX-9'));
    const rig = await tcpRig({ profile: file });
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: rig.link.kind === 'tcp' ? rig.link.port! : 0, url: '' };
    expect((await driver.probe!(link, { timeoutMs: 1000 }))?.model).toMatch(/^Modbus device at unit 1 \(no shipped profile fits it/);
  });

  it('is not fooled by another protocol: an INTEGRA module stays unrecognised', async () => {
    const integra = await createIntegra({ users: 1 });
    const server = await integra.listenTcp('127.0.0.1', 0);
    cleanups.push(async () => {
      await server.close();
      await integra.close();
    });
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' };
    expect(await driver.probe!(link, { timeoutMs: 500 })).toBeUndefined();
  });
});

describe.skipIf(!haveSocat)('over Modbus RTU on a pseudo-terminal pair', () => {
  async function rtuRig(paceBaud?: number) {
    const pty = await makePtyPair();
    const sim = await createSimulator({ users: 4, paceBaud, options: { mode: 'rtu' } });
    const settings = { baudRate: 9600, dataBits: 8 as const, parity: 'even' as const, stopBits: 1 as const };
    const served = await serveSerial(pty.a, settings, (s) => sim.accept(s));
    cleanups.push(async () => {
      await served.close();
      await sim.close();
      await pty.close();
    });
    const link: Link = { kind: 'serial', path: pty.b, url: `serial://${pty.b}`, ...settings };
    return { sim, pty, link };
  }

  it('lists, adds, changes a code and removes, each read back', async () => {
    const { sim, link } = await rtuRig();
    const session = await openSession(link, {});
    expect((await session.listUsers()).map((u) => u.slot)).toEqual([1, 2, 3, 4]);
    await session.createUser({ slot: 9, name: 'Technician', code: code('850371') });
    expect(sim.user(9)).toMatchObject({ name: 'Technician', code: '850371' });
    await session.changeCode(9, code('936152'));
    expect(await session.verifyCode!(9, code('936152'))).toBe(true);
    await session.deleteUser(9);
    expect(sim.user(9)).toBeUndefined();
    expect((await session.info()).module).toBe('Modbus RTU unit 1');
  });

  it('a wrong unit id is silence on a serial line: the timeout hints at the unit id and line settings', async () => {
    const { link } = await rtuRig();
    const error = await failure((await openSession(link, { unit: 3, timeoutMs: 400 })).listUsers());
    expect(error.code).toBe('E_TIMEOUT');
    expect(error.message).toMatch(/no answer from Modbus unit 3 within 400 ms/);
    expect(error.hint).toMatch(/options.unit, now 3.*line settings/);
  });

  it('probe recognises it on the serial line', async () => {
    const { pty } = await rtuRig();
    const link: Link = { kind: 'serial', path: pty.b, url: `serial://${pty.b}`, ...{ baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 } };
    expect(await driver.probe!(link, { timeoutMs: 1000 })).toMatchObject({ driver: 'modbus', model: 'PCX-1000 (profile demo-modbus, unit 1)' });
  });

  it('paced at 9600 baud, answers take about their wire time', async () => {
    const { link } = await rtuRig(9600);
    const session = await openSession(link, {});
    const started = Date.now();
    await session.readUser(1);
    await session.info();
    const elapsed = Date.now() - started;
    // Answers: slot 1 (11 registers: 27 bytes) and identification (12: 29 bytes) = 56 bytes = 58 ms at 9600 8N1.
    expect(elapsed).toBeGreaterThanOrEqual(50);
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('--debug masks code registers by the register map, whatever arrives when (issue 14 item 3)', () => {
  /** How a BCD code (2 registers, F padded) could show in a trace: digits, register bytes as hex, register values in decimal. */
  function leaksOf(digits: string): string[] {
    const nibbles = digits.padEnd(8, 'f').toLowerCase();
    const registers = [nibbles.slice(0, 4), nibbles.slice(4, 8)];
    return [digits, ...registers.map((r) => `${r.slice(0, 2)} ${r.slice(2)}`), ...registers.map((r) => String(parseInt(r, 16)))];
  }
  function expectNoCode(lines: string[], digits: string): void {
    const all = lines.join('\n');
    for (const leak of leaksOf(digits)) expect(all, `trace shows ${leak}`).not.toContain(leak);
  }

  it('function-6 writes (writeMultiple: false): the echo reply of a code register is masked too', async () => {
    const { file } = await profileVariant('single-writes', (p) => (p.limits.writeMultiple = false));
    const rig = await tcpRig({ profile: file });
    const lines: string[] = [];
    const session = await rig.open({ profile: file, trace: (direction, text) => lines.push(`${direction} ${text}`) });
    await session.createUser({ slot: 20, name: 'Cleaner', code: code('583016') });
    await session.changeCode(20, code('719350'));
    expect(lines.some((l) => /^rx .*01 06 /.test(l))).toBe(true); // function-6 replies were traced
    expectNoCode(lines, '583016');
    expectNoCode(lines, '719350');
  });

  it('a reply that arrives after its request timed out is masked (a late write echo, a late read of the code)', async () => {
    const { file } = await profileVariant('single-writes', (p) => (p.limits.writeMultiple = false));
    const rig = await tcpRig({ profile: file });
    await (await rig.open({ profile: file })).createUser({ slot: 20, name: 'Cleaner', code: code('583016') });
    const codeAt = slotAddress(demo.users, 20) + demo.users.code.offset;
    // Hold back the reply to any request that touches the code registers of slot 20.
    const touchesCode = (request: Buffer) => {
      const fc = request[7];
      const address = request.readUInt16BE(8);
      const count = fc === 6 ? 1 : request.readUInt16BE(10);
      return (fc === 3 || fc === 6 || fc === 16) && address <= codeAt + 1 && address + count > codeAt;
    };
    const { startLateReplyProxy } = await import('../../support/hostile.js');
    const proxy = await startLateReplyProxy(rig.link.kind === 'tcp' ? rig.link.port! : 0, touchesCode);
    cleanups.push(() => proxy.close());
    const lines: string[] = [];
    const link: Link = { kind: 'tcp', host: '127.0.0.1', port: proxy.port, url: `tcp://127.0.0.1:${proxy.port}` };
    const session = await openSession(link, { profile: file, timeoutMs: 300, trace: (direction, text) => lines.push(`${direction} ${text}`) });
    await failure(session.changeCode(20, code('719350'))); // the code write times out; its reply is held
    await failure(session.verifyCode!(20, code('719350'))); // the held reply arrives late; the code read times out
    await session.readUser(20); // the late code read arrives
    expect(proxy.late).toBeGreaterThanOrEqual(2);
    expectNoCode(lines, '583016');
    expectNoCode(lines, '719350');
  });
});

describe('echo and flood on the link (issue 14 items 2, 12)', () => {
  const tcpLink = (port: number): Link => ({ kind: 'tcp', host: '127.0.0.1', port, url: `tcp://127.0.0.1:${port}` });

  it('Modbus TCP: our own request coming back is E_ECHO (exit 5) with a hint, for reads and writes', async () => {
    const { startEchoServer } = await import('../../support/hostile.js');
    const echo = await startEchoServer();
    cleanups.push(() => echo.close());
    const session = await openSession(tcpLink(echo.port), {});
    for (const attempt of [() => session.info(), () => session.listUsers(), () => session.createUser({ slot: 20, name: 'X', code: code('583016') })]) {
      const error = await failure(attempt());
      expect(error).toMatchObject({ code: 'E_ECHO', exitCode: 5 });
      expect(error.hint).toMatch(/echo/);
    }
  });

  it('RTU behind an adapter that echoes: the echo is skipped and the device answered, function-6 writes included', async () => {
    const { file } = await profileVariant('single-writes-small', (p) => {
      p.limits.writeMultiple = false;
      p.users.slots = 40;
      p.users.base = 2000; // 0x07D0: no echoed read happens to parse as an RTU reply (as 0x03E8 does)
    });
    const rig = await tcpRig({ profile: file, mode: 'rtu' });
    const { startEchoingAdapter } = await import('../../support/hostile.js');
    const adapter = await startEchoingAdapter(rig.link.kind === 'tcp' ? rig.link.port! : 0);
    cleanups.push(() => adapter.close());
    const lines: string[] = [];
    const session = await openSession(tcpLink(adapter.port), { profile: file, framing: 'rtu', trace: (d, t) => lines.push(`${d} ${t}`) });
    expect((await session.listUsers()).map((u) => u.slot)).toEqual([1, 2, 3, 4, 5]);
    await session.createUser({ slot: 20, name: 'Cleaner', code: code('583016') });
    await session.changeCode(20, code('719350'));
    expect(rig.sim.user(20)).toMatchObject({ name: 'Cleaner', code: '719350' });
    expect(lines.some((l) => /echoed: skipped/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/71 93|93 50|58 30/);
  });

  it('RTU on a loopback (echo, no device): no answer (exit 4), and the message says the line echoed', async () => {
    const { startEchoServer } = await import('../../support/hostile.js');
    const echo = await startEchoServer();
    cleanups.push(() => echo.close());
    const session = await openSession(tcpLink(echo.port), { framing: 'rtu', timeoutMs: 300 });
    const error = await failure(session.listUsers());
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: 4 });
    expect(error.message).toMatch(/echoed the request/);
  });

  it('a flood of valid frames answering nothing is E_FLOOD (exit 5), not a wait to the timeout', async () => {
    const { startFloodServer } = await import('../../support/hostile.js');
    const { encodeMbap } = await import('../../../drivers/modbus/mbap.js');
    const flood = await startFloodServer(encodeMbap(0xbeef, 1, Buffer.from([3, 2, 0, 0])));
    cleanups.push(() => flood.close());
    const session = await openSession(tcpLink(flood.port), { timeoutMs: 60_000 });
    expect(await failure(session.info())).toMatchObject({ code: 'E_FLOOD', exitCode: 5 });
  });
});
