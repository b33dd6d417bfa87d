import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { checksum as encodeChecksum } from '../../../drivers/dsc/codec.js';
import { createSimulator, type DscSimulator } from '../../../drivers/dsc/simulator.js';

/** The DSC simulator spoken to as a raw TPI client would. */

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of servers.splice(0)) await stop();
});

async function start(): Promise<{ sim: DscSimulator; port: number }> {
  const sim = await createSimulator({});
  const server = await sim.listenTcp();
  servers.push(async () => {
    await server.close();
    await sim.close();
  });
  return { sim, port: server.port };
}

/** Connects and returns the first line the simulator sends, or "(closed)" when it hangs up without a word. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) {
        socket.destroy();
        resolve(text.split('\r\n')[0]);
      }
    });
    socket.on('close', () => resolve('(closed)'));
  });
}

describe('DSC simulator: what the TPI takes', () => {
  it('answers a 071 with arrow keys with 502 027, as the TPI does for anything but digits, * and #', async () => {
    const { port } = await start();
    const socket = net.connect(port, '127.0.0.1');
    servers.push(async () => void socket.destroy());
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    const line = (body: string) => `${body}${encodeChecksum(body)}\r\n`;
    await expect.poll(() => text).toContain('5053CD');
    socket.write(line('005user'));
    await expect.poll(() => text).toContain('5051');
    socket.write(line('0711>>'));
    await expect.poll(() => text).toContain('502027');
    expect(text).not.toContain('500071');
  });
});

describe('DSC simulator: one TPI client at a time', () => {
  it('a client that reconnects right after closing is asked for its password, not dropped (issue 15 item 6)', async () => {
    const { sim, port } = await start();
    for (const how of ['end', 'destroy'] as const) {
      for (let round = 0; round < 5; round++) {
        const old = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => old.once('connect', resolve));
        old[how]();
        expect(await firstLine(port)).toBe('5053CD'); // 505 login interaction, 3: password requested
      }
    }
    expect(sim.stats.refusedClients).toBe(0);
  });

  it('closes a second client without a word while the first is connected', async () => {
    const { sim, port } = await start();
    const holder = net.connect(port, '127.0.0.1');
    servers.push(async () => void holder.destroy());
    await new Promise((resolve) => holder.once('data', resolve));
    expect(await firstLine(port)).toBe('(closed)');
    expect(sim.stats.refusedClients).toBe(1);
  });
});
