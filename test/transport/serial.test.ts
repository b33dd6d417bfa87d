import { afterEach, describe, expect, it } from 'vitest';
import { openSerial, serveSerial } from '../../src/transport/serial.js';
import { FrameChannel, type FrameDecoder } from '../../src/transport/channel.js';
import { haveSocat, makePtyPair, type PtyPair } from '../support/pty-pair.js';

const settings = { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 } as const;

/** Lines ending in \n: the simplest framing, to test the transport rather than a protocol. */
class LineDecoder implements FrameDecoder<string> {
  private buffer = '';
  push(chunk: Uint8Array): string[] {
    this.buffer += Buffer.from(chunk).toString();
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    return lines;
  }
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.skipIf(!haveSocat)('serial transport over a real pseudo-terminal pair', () => {
  async function pair(): Promise<PtyPair> {
    const p = await makePtyPair();
    cleanups.push(p.close);
    return p;
  }

  it('carries bytes both ways, and a frame split over many small writes arrives whole', async () => {
    const { a, b } = await pair();
    const server = await serveSerial(b, settings, (stream) => {
      stream.onData((chunk) => {
        // answer each byte as it comes, one byte per write, to split the reply into many reads
        void (async () => {
          for (const byte of Buffer.from(`ok:${chunk.toString().trim()}\n`)) await stream.write(Buffer.from([byte]));
        })();
      });
    });
    cleanups.push(server.close);
    const client = new FrameChannel(await openSerial(a, settings, { timeoutMs: 2000 }), new LineDecoder());
    cleanups.push(() => client.close());
    const answer = await client.request(Buffer.from('ping\n'), (line) => line.startsWith('ok:'), { timeoutMs: 3000 });
    expect(answer).toBe('ok:ping');
  });

  it('pulling the cable mid-request fails promptly with E_LOST (exit 4), not at the timeout', async () => {
    const p = await pair();
    const client = new FrameChannel(await openSerial(p.a, settings, { timeoutMs: 2000 }), new LineDecoder());
    cleanups.push(() => client.close());
    // Not at the timeout: that would be E_TIMEOUT, after 20 s (no clock is read; a wall-clock bound flakes under load).
    const pending = client.request(Buffer.from('hello\n'), () => true, { timeoutMs: 20_000 });
    setTimeout(() => void p.close(), 200);
    await expect(pending).rejects.toMatchObject({ code: 'E_LOST', exitCode: 4 });
  });

  it('a port another program holds is reported busy, naming the port', async () => {
    const { a } = await pair();
    const first = await openSerial(a, settings, { timeoutMs: 2000 });
    cleanups.push(() => first.close());
    await expect(openSerial(a, settings, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'E_PORT_BUSY', exitCode: 4, message: expect.stringContaining(a) });
  });
});

describe('serial errors that need no hardware', () => {
  it('a port that does not exist is named, with the ports that do exist', async () => {
    const error = await openSerial('/dev/ttyNOPE9', settings, { timeoutMs: 2000 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'E_NO_PORT', exitCode: 4 });
    expect(error.message).toBe('serial port /dev/ttyNOPE9 does not exist');
    expect(error.hint).toMatch(/ports that exist|no serial ports/);
  });
});
