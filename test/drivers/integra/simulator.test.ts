import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FrameChannel } from '../../../src/transport/channel.js';
import { connectTcp } from '../../../src/transport/tcp.js';
import type { ByteStream } from '../../../src/transport/types.js';
import { encodeRequesterCode } from '../../../drivers/integra/bcd.js';
import { crc, encodeFrame, IntegraDecoder, wrapFrame, type IntegraFrame } from '../../../drivers/integra/codec.js';
import { encodeUserWrite } from '../../../drivers/integra/messages.js';
import { createSimulator, type IntegraSimulator } from '../../../drivers/integra/simulator.js';

/** The simulator spoken to frame by frame, as a third-party INTEGRA client would. */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof createSimulator>[0] = { users: 3 }): Promise<{ sim: IntegraSimulator; port: number }> {
  const sim = await createSimulator(options);
  const server = await sim.listenTcp('127.0.0.1', 0);
  cleanups.push(async () => {
    await server.close();
    await sim.close();
  });
  return { sim, port: server.port };
}

interface Client {
  stream: ByteStream;
  /** Sends raw bytes and returns the next frame that comes back. */
  ask(bytes: Buffer): Promise<IntegraFrame>;
}

async function client(port: number): Promise<Client> {
  const stream = await connectTcp('127.0.0.1', port, { timeoutMs: 3000 });
  const channel = new FrameChannel(stream, new IntegraDecoder());
  cleanups.push(() => channel.close());
  return { stream, ask: (bytes) => channel.request(bytes, () => true, { timeoutMs: 3000 }) };
}

const master = encodeRequesterCode('1111');
const data = (frame: IntegraFrame) => (frame.kind === 'frame' ? [frame.cmd, frame.data.length] : ['busy']);

describe('INTEGRA simulator: the read commands integration clients use', () => {
  it('answers 0x7E, 0x7C, 0x7F, zones, partitions, outputs and the clock with the lengths of pages 3-7', async () => {
    const { port } = await start();
    const c = await client(port);
    expect(data(await c.ask(encodeFrame(0x7e)))).toEqual([0x7e, 14]);
    expect(data(await c.ask(encodeFrame(0x7c)))).toEqual([0x7c, 12]);
    expect(data(await c.ask(encodeFrame(0x7f)))).toEqual([0x7f, 5]);
    expect(data(await c.ask(encodeFrame(0x7f, [0])))).toEqual([0x7f, 6]);
    expect(data(await c.ask(encodeFrame(0x7f, [0, 0])))).toEqual([0x7f, 7]);
    expect(data(await c.ask(encodeFrame(0x00)))).toEqual([0x00, 16]);
    expect(data(await c.ask(encodeFrame(0x00, [0])))).toEqual([0x00, 32]);
    expect(data(await c.ask(encodeFrame(0x0a)))).toEqual([0x0a, 4]);
    expect(data(await c.ask(encodeFrame(0x17, [0])))).toEqual([0x17, 32]);

    const clock = await c.ask(encodeFrame(0x1a));
    expect(data(clock)).toEqual([0x1a, 9]);
    const year = new Date().getFullYear();
    expect(clock.kind === 'frame' && clock.data.subarray(0, 2).toString('hex')).toBe(String(year));
  });

  it('gives no answer to an unknown command, a wrong length or a bad CRC, and goes on serving', async () => {
    const { sim, port } = await start();
    const c = await client(port);
    const sum = crc(Uint8Array.of(0x7e)) ^ 1;
    await c.stream.write(
      Buffer.concat([encodeFrame(0x99), encodeFrame(0xe3, [0x11, 0x11, 0xff, 0xff, 1]), encodeFrame(0x7e, [1, 2]), wrapFrame([0x7e, sum >>> 8, sum & 0xff])]),
    );
    // Answers come in order, so the first one back must be the answer to this 0x0A.
    expect(data(await c.ask(encodeFrame(0x0a)))).toEqual([0x0a, 4]);
    expect(sim.stats.badCrc).toBe(1);
  });
});

describe('INTEGRA simulator: the users model', () => {
  it('seeds N users with distinct deterministic codes, master 241 and the service code', async () => {
    const a = await createSimulator({ users: 20 });
    const b = await createSimulator({ users: 20 });
    const codes = Object.values(a.state.users).map((u) => u.code);
    expect(new Set(codes).size).toBe(21);
    expect(b.state).toEqual(a.state);
    expect(a.state.users[241]).toMatchObject({ name: 'Master', code: '1111', rights: [0xff, 0xff, 0xff] });
    expect(a.state.serviceCode).toBe('12345');
    expect(a.demoSecrets()).toEqual({ code: '1111' });
  });

  it('0xE0 tells a user its own number and telephone code; 0xE2 gives both bitmaps', async () => {
    const { sim, port } = await start();
    sim.state.users[5] = { ...sim.state.users[1], number: 5, code: '5555', phone: '0509', rights: [0x80, 0, 0x04] };
    const c = await client(port);
    const self = await c.ask(encodeFrame(0xe0, encodeRequesterCode('5555')));
    expect(self.kind === 'frame' && [self.cmd, self.data.length, self.data[0], self.data.subarray(1, 3).toString('hex')]).toEqual([0xe0, 29, 5, '0509']);

    const list = await c.ask(encodeFrame(0xe2, [...encodeRequesterCode('5555'), 5]));
    expect(list.kind === 'frame' && [list.data.length, list.data[1], list.data[31]]).toEqual([61, 0b10111, 0b10011]); // user 3 is in partitions 1+2, outside user 5's
  });

  it('refuses a phone code another user has (0x06), and 0xE2 for a user the requester may not edit (0x02)', async () => {
    const { sim, port } = await start();
    sim.state.users[2].phone = '4444';
    const c = await client(port);
    const write = (phone: number[]) =>
      encodeUserWrite({
        number: 9,
        code: Buffer.from([0x48, 0x26, 0x13, 0xff]),
        phone: Buffer.from(phone),
        partitions: [1],
        rightsAndType: 0,
        time: 0,
        tempTime: 0,
        rights: [3, 0, 0],
        name: 'Nine',
        object: 0,
      });
    expect(data(await c.ask(encodeFrame(0xe6, [...master, ...write([0x44, 0x44])])))).toEqual([0xef, 1]);
    expect(sim.state.users[9]).toBeUndefined();
    const answer = await c.ask(encodeFrame(0xe6, [...master, ...write([0x12, 0x12])]));
    expect(answer.kind === 'frame' && answer.data[0]).toBe(0x00);
    expect(sim.state.users[9]).toMatchObject({ name: 'Nine', code: '482613', phone: '1212' });

    const normal = encodeRequesterCode(sim.state.users[1].code);
    const refused = await c.ask(encodeFrame(0xe2, [...normal, 241]));
    expect(refused.kind === 'frame' && [refused.cmd, refused.data[0]]).toEqual([0xef, 0x02]);
  });

  it('saves its state after every write, atomically, and loads it on the next start', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'integra-sim-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const statePath = path.join(dir, 'panel.json');
    const { port } = await start({ users: 2, statePath });
    const c = await client(port);
    const answer = await c.ask(encodeFrame(0xe5, [...master, 2]));
    expect(answer.kind === 'frame' && answer.data[0]).toBe(0x00);
    expect(await fs.readdir(dir)).toEqual(['panel.json']);

    const again = await createSimulator({ users: 2, statePath });
    expect(Object.keys(again.state.users)).toEqual(['1', '241']);
  });
});

describe('INTEGRA simulator: one client at a time, and faults', () => {
  it('greets a second client with "Busy!" and closes it; serves a new one once the first has gone', async () => {
    const { sim, port } = await start();
    const first = await client(port);
    await first.ask(encodeFrame(0x7e));

    const second = net.connect(port, '127.0.0.1');
    const text = await new Promise<string>((resolve) => {
      let received = '';
      second.on('data', (chunk) => (received += chunk.toString('latin1')));
      second.on('close', () => resolve(received));
    });
    expect(text).toBe('Busy!\r\n');

    expect(sim.stats.refusedClients).toBe(1);

    await first.stream.close();
    // A client that has closed no longer counts: the next one is served (issue 15 item 6).
    const next = await client(port);
    expect(data(await next.ask(encodeFrame(0x7e)))).toEqual([0x7e, 14]);
    expect(sim.stats.refusedClients).toBe(1);
  });

  it('serves a client that reconnects right after closing, without waiting for the close (issue 15 item 6)', async () => {
    const { sim, port } = await start();
    for (const how of ['end', 'destroy'] as const) {
      for (let round = 0; round < 5; round++) {
        const old = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => old.once('connect', resolve));
        old[how]();
        const c = await client(port);
        expect(data(await c.ask(encodeFrame(0x7e)))).toEqual([0x7e, 14]);
        await c.stream.close();
      }
    }
    expect(sim.stats).toMatchObject({ connections: 20, refusedClients: 0 });
  });

  it('counts what it receives and what it writes', async () => {
    const { sim, port } = await start();
    const c = await client(port);
    await c.ask(encodeFrame(0xe1, [...master, 1]));
    await c.ask(encodeFrame(0xe5, [...master, 1]));
    expect(sim.stats).toMatchObject({ framesIn: 2, writes: 1, badCrc: 0 });
  });
});
