import { describe, expect, it } from 'vitest';
import { ProtocolError, UnreachableError } from '../../src/core/errors.js';
import { DEFAULT_LIMITS, FrameChannel, type FrameDecoder } from '../../src/transport/channel.js';
import { memoryPair } from '../../src/transport/memory.js';
import { failure } from '../support/failure.js';

/** One byte, one frame: the simplest decoder, so the tests are about the channel. */
class ByteDecoder implements FrameDecoder<number> {
  push(chunk: Uint8Array): number[] {
    return [...chunk];
  }
}

describe('FrameChannel under a flood of frames nobody asked for (issue 14 item 12)', () => {
  it('fails the wait with a protocol error once more unrelated frames arrive than a conversation ever needs', async () => {
    const [client, peer] = memoryPair();
    const channel = new FrameChannel(client, new ByteDecoder());
    const answer = channel.request(Uint8Array.of(1), (b) => b === 0xff, { timeoutMs: 60_000 });
    // 200,000 frames, none of them 0xFF: before the bound these all queued for the whole wait.
    for (let i = 0; i < 200; i++) await peer.write(Buffer.alloc(1000, 7));
    expect((await failure(answer, ProtocolError)).code).toBe('E_FLOOD');
    expect(channel.queued).toBeLessThanOrEqual(DEFAULT_LIMITS.maxQueued);
  });

  it('keeps at most maxQueued frames while nobody waits (the oldest go), and the newest stay readable', async () => {
    const [client, peer] = memoryPair();
    const channel = new FrameChannel(client, new ByteDecoder(), 'panel', { maxQueued: 10 });
    await peer.write(Uint8Array.from({ length: 100 }, (_, i) => i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(channel.queued).toBe(10);
    expect(channel.overflowed).toBe(90);
    expect(channel.drain()).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });

  it('a wait that keeps the other frames counts them too, and still fails as a flood', async () => {
    const [client, peer] = memoryPair();
    const channel = new FrameChannel(client, new ByteDecoder(), 'panel', { maxUnrelated: 50 });
    const answer = channel.next((b) => b === 0xff, { timeoutMs: 60_000 }, true);
    await peer.write(Buffer.alloc(60, 1));
    expect((await failure(answer, ProtocolError)).code).toBe('E_FLOOD');
    expect(channel.queued).toBeLessThanOrEqual(DEFAULT_LIMITS.maxQueued);
  });

  it('a few stray frames before the answer are fine', async () => {
    const [client, peer] = memoryPair();
    const channel = new FrameChannel(client, new ByteDecoder());
    const answer = channel.request(Uint8Array.of(1), (b) => b === 0xff, { timeoutMs: 60_000 });
    await peer.write(Uint8Array.of(1, 2, 3, 0xff));
    expect(await answer).toBe(0xff);
  });

  it('says how long it waited, in words', async () => {
    const [client] = memoryPair();
    const channel = new FrameChannel(client, new ByteDecoder());
    const error = await failure(
      channel.next(() => true, { timeoutMs: 20 }),
      UnreachableError,
    );
    expect(error.message).toContain('within 20 ms');
  });
});
