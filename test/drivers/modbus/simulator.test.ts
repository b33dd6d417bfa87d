import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FrameChannel } from '../../../src/transport/channel.js';
import { connectTcp } from '../../../src/transport/tcp.js';
import { openSerial, serveSerial } from '../../../src/transport/serial.js';
import type { SimulatorOptions } from '../../../src/core/contract.js';
import { MbapDecoder, encodeMbap, type MbapFrame } from '../../../drivers/modbus/mbap.js';
import { readRequest, writeRegistersRequest } from '../../../drivers/modbus/pdu.js';
import { RtuDecoder, encodeRtu, type RtuFrame } from '../../../drivers/modbus/rtu.js';
import { createSimulator, type ModbusSimulator } from '../../../drivers/modbus/simulator.js';
import { haveSocat, makePtyPair } from '../../support/pty-pair.js';
import { haveMbpoll, mbpoll, profileVariant, words } from './support.js';

/**
 * The simulator is a standard Modbus server: read and written here by mbpoll, a client that
 * shares no code with panelctl, over TCP and over RTU on a pseudo-terminal pair; and by raw
 * frames for what mbpoll cannot send.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

type Poll = (args: string[], values?: number[]) => ReturnType<typeof mbpoll>;

async function tcpSim(options: SimulatorOptions = { users: 3 }): Promise<{ sim: ModbusSimulator; port: number; tcp: Poll }> {
  const sim = await createSimulator(options);
  const server = await sim.listenTcp('127.0.0.1', 0);
  cleanups.push(async () => {
    await server.close();
    await sim.close();
  });
  return {
    sim,
    port: server.port,
    tcp: (args, values = []) => mbpoll(['-m', 'tcp', '-p', String(server.port), '-o', '0.5', ...args, '127.0.0.1', ...values.map(String)]),
  };
}

/** A raw Modbus TCP client: one request, the frame that comes back. */
async function rawTcp(port: number) {
  const stream = await connectTcp('127.0.0.1', port, { timeoutMs: 2000 });
  const channel = new FrameChannel<MbapFrame>(stream, new MbapDecoder());
  cleanups.push(() => channel.close());
  let id = 100;
  return (unit: number, pdu: Buffer, timeoutMs = 1000) => channel.request(encodeMbap(++id, unit, pdu), (f) => f.transactionId === id, { timeoutMs });
}

const SLOT20 = 1000 + 19 * 16;
/** Slot record offsets 0..12: flags (present, enabled), type, partitions, name (8), BCD code (2). */
const record = (name: string, code: number[]) => [0b011, 0, 0b1, ...words(name.padEnd(16, '\0')), ...code];

describe.skipIf(!haveMbpoll)('simulator over Modbus TCP, driven by mbpoll', () => {
  it('serves the identification registers and the seeded user table', async () => {
    const { tcp } = await tcpSim();
    const id = await tcp(['-a', '1', '-r', '0', '-c', '12']);
    expect(id.code, id.output).toBe(0);
    expect(Buffer.from([0, 1, 2, 3].flatMap((r) => [id.values.get(r)! >> 8, id.values.get(r)! & 0xff])).toString('latin1')).toBe('PCX-1000');
    expect([id.values.get(8), id.values.get(9)]).toEqual([1, 4]);

    const slot1 = await tcp(['-a', '1', '-r', '1000', '-c', '13', '-t', '4:hex']);
    expect(slot1.values.get(1000)).toBe(0b111); // present, enabled, code set
    expect([slot1.values.get(1003), slot1.values.get(1004)]).toEqual(words('Anna'));
    expect(slot1.values.get(1011)! >> 12).toBeLessThan(10); // a BCD digit, not padding
  });

  it('takes a user written with function 16, and acts on it only when the apply register is written', async () => {
    const { sim, tcp } = await tcpSim();
    const write = await tcp(['-a', '1', '-r', String(SLOT20)], record('Cleaner', [0x5830, 0x16ff]));
    expect(write.code, write.output).toBe(0);
    expect(sim.user(20)).toBeUndefined(); // staged, not applied
    const applied = await tcp(['-a', '1', '-r', '100'], [1]);
    expect(applied.code, applied.output).toBe(0);
    expect(sim.user(20)).toEqual({ name: 'Cleaner', code: '583016', enabled: true, hasCode: true, type: 'normal', partitions: [1] });
    const back = await tcp(['-a', '1', '-r', String(SLOT20), '-c', '1']);
    expect(back.values.get(SLOT20)).toBe(0b111); // the device set its code-set bit
    expect(sim.stats.writes).toBe(2);
  });

  it('refuses what a device refuses, with the standard exceptions', async () => {
    const { sim, tcp } = await tcpSim();
    const readOnly = await tcp(['-a', '1', '-r', '0'], [1234]);
    expect(readOnly.output).toMatch(/Illegal data address/);
    const outside = await tcp(['-a', '1', '-r', '19990', '-c', '20']);
    expect(outside.output).toMatch(/Illegal data address/);
    const duplicate = await tcp(['-a', '1', '-r', String(SLOT20)], record('Copycat', [0x2035, 0x71ff])); // slot 1's code
    expect(duplicate.output).toMatch(/Illegal data value/);
    const badBcd = await tcp(['-a', '1', '-r', String(SLOT20)], record('Bad', [0x12a4, 0xffff]));
    expect(badBcd.output).toMatch(/Illegal data value/);
    const badApply = await tcp(['-a', '1', '-r', '100'], [7]);
    expect(badApply.output).toMatch(/Illegal data value/);
    const noDuration = await tcp(['-a', '1', '-r', '0', '-t', '0'], [1]); // start test mode without a duration
    expect(noDuration.output).toMatch(/Illegal data value/);
    expect(sim.stats.writes).toBe(0);
    expect(sim.stats.exceptions).toBe(6);
    await tcp(['-a', '1', '-r', String(SLOT20)], record('Pending', [0x6402, 0x71ff])); // accepted, staged
    await tcp(['-a', '1', '-r', String(SLOT20)], record('Copycat', [0x2035, 0x71ff])); // refused: must not touch the staged one
    expect((await tcp(['-a', '1', '-r', '100'], [1])).code).toBe(0);
    expect(sim.user(20)).toMatchObject({ name: 'Pending', code: '640271' });
  });

  it('runs test mode from its coil for the duration written first, and ends it by itself', async () => {
    const { sim, tcp } = await tcpSim();
    expect((await tcp(['-a', '1', '-r', '201'], [0, 2])).code).toBe(0); // 2 seconds, 32-bit, high word first
    expect((await tcp(['-a', '1', '-r', '0', '-t', '0'], [1])).code).toBe(0);
    const running = await tcp(['-a', '1', '-r', '200', '-c', '5']);
    expect(running.values.get(200)).toBe(1);
    expect(running.values.get(204)).toBeGreaterThanOrEqual(1);
    expect(sim.testModeActive).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2300));
    const ended = await tcp(['-a', '1', '-r', '200', '-c', '5']);
    expect(ended.values.get(200)).toBe(0);
    expect(ended.values.get(204)).toBe(0);
    expect((await tcp(['-a', '1', '-r', '0', '-t', '0'])).values.get(0)).toBe(0);
  });

  it('answers another unit id as a gateway would: exception 11, target device failed to respond', async () => {
    const { tcp } = await tcpSim();
    const other = await tcp(['-a', '5', '-r', '0', '-c', '1']);
    expect(other.code).not.toBe(0);
    expect(other.output).toMatch(/Target device failed to respond/);
  });

  it('refuses more than 125 registers in one read, and function 16 on a device without it', async () => {
    const { port } = await tcpSim();
    const ask = await rawTcp(port);
    expect((await ask(1, readRequest(3, 1000, 126))).pdu).toEqual(Buffer.from([0x83, 3]));
    expect((await ask(1, Buffer.from([0x2b, 0x0e, 1, 0]))).pdu).toEqual(Buffer.from([0xab, 1])); // unknown function

    const { file } = await profileVariant('no-fc16', (p) => (p.limits.writeMultiple = false));
    const { port: port2, sim } = await tcpSim({ options: { profile: file } });
    const ask2 = await rawTcp(port2);
    expect((await ask2(1, writeRegistersRequest(SLOT20, [0, 0]))).pdu).toEqual(Buffer.from([0x90, 1]));
    expect((await ask2(1, Buffer.from([6, 0, 100, 0, 1]))).pdu).toEqual(Buffer.from([6, 0, 100, 0, 1])); // function 6 echoes
    expect(sim.stats.writes).toBe(1);
  });

  it('keeps its memory in a state file between runs, with the user table decoded for people', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'modbus-sim-'));
    cleanups.push(() => fs.rm(dir, { recursive: true }));
    const statePath = path.join(dir, 'device.json');
    const { tcp, sim } = await tcpSim({ statePath, users: 2 });
    await tcp(['-a', '1', '-r', String(SLOT20)], record('Kept', [0x4417, 0x29ff]));
    await tcp(['-a', '1', '-r', '100'], [1]);
    await sim.close();
    const saved = JSON.parse(await fs.readFile(statePath, 'utf8'));
    expect(saved.users['20']).toMatchObject({ name: 'Kept', code: '441729' });
    expect((await fs.stat(statePath)).mode & 0o777).toBe(0o600);
    const again = await createSimulator({ statePath, users: 5 });
    expect(again.user(20)).toMatchObject({ name: 'Kept' });
    expect(again.user(3)).toBeUndefined(); // seeding happens only for a fresh device
    await again.close();
  });
});

describe.skipIf(!haveMbpoll || !haveSocat)('simulator over Modbus RTU on a pseudo-terminal pair', () => {
  async function rtuSim(options: SimulatorOptions['options'] = {}) {
    const pty = await makePtyPair();
    const sim = await createSimulator({ users: 3, options: { mode: 'rtu', ...options } });
    const served = await serveSerial(pty.a, { baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 }, (s) => sim.accept(s));
    cleanups.push(async () => {
      await served.close();
      await sim.close();
      await pty.close();
    });
    const rtu: Poll = (args, values = []) => mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'even', '-o', '0.5', ...args, pty.b, ...values.map(String)]);
    return { sim, pty, rtu };
  }

  it('is read and written by mbpoll (RTU framing, CRC, 9600 8E1)', async () => {
    const { sim, rtu } = await rtuSim();
    const slot2 = await rtu(['-a', '1', '-r', '1016', '-c', '13']);
    expect(slot2.code, slot2.output).toBe(0);
    expect([slot2.values.get(1019), slot2.values.get(1020)]).toEqual(words('Lars'));
    expect((await rtu(['-a', '1', '-r', String(SLOT20)], record('Night guard', [0x6071, 0x93ff]))).code).toBe(0);
    expect((await rtu(['-a', '1', '-r', '100'], [1])).code).toBe(0);
    expect(sim.user(20)).toMatchObject({ name: 'Night guard', code: '607193' });
  });

  it('stays silent for another unit id, as a device on a serial line must', async () => {
    const { sim, rtu } = await rtuSim();
    const other = await rtu(['-a', '7', '-r', '0', '-c', '1']);
    expect(other.code).not.toBe(0);
    expect(other.output).toMatch(/timed out|Connection timed out/i);
    expect(sim.stats.ignored).toBe(1);
  });

  it('drops noise and frames with a bad CRC, then answers the next good request; carries out broadcasts unanswered', async () => {
    const { sim, pty } = await rtuSim();
    const port = await openSerial(pty.b, { baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 }, { timeoutMs: 2000 });
    const channel = new FrameChannel<RtuFrame>(port, new RtuDecoder('response'));
    cleanups.push(() => channel.close());
    const good = encodeRtu(1, readRequest(3, 1000, 1));
    const spoiled = Buffer.from(good);
    spoiled[3] ^= 0x40;
    await channel.send(Buffer.from([0xfe, 0xfe, 0x7e, 0xd7, 0xe2, 0xfe, 0x0d])); // an INTEGRA probe
    await channel.send(spoiled);
    const answer = await channel.request(good, () => true, { timeoutMs: 1500 });
    expect(answer).toEqual({ unit: 1, pdu: Buffer.from([3, 2, 0, 0b111]) });
    expect(sim.stats.badFrames).toBeGreaterThanOrEqual(1);

    await channel.send(encodeRtu(0, writeRegistersRequest(SLOT20, record('Broadcast', [0x1357, 0x9fff])))); // unit 0
    await channel.send(encodeRtu(0, Buffer.from([6, 0, 100, 0, 1])));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(channel.drain()).toEqual([]);
    expect(sim.user(20)).toMatchObject({ name: 'Broadcast', code: '13579' });
  });
});
