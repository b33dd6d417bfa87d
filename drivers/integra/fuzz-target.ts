import type * as FastCheck from 'fast-check';
import { Secret } from '../../src/driver-kit/index.js';
import { FrameChannel } from '../../src/driver-kit/index.js';
import { DEFAULT_LIMITS } from '../../src/driver-kit/index.js';
import type { ByteStream, OpenOptions, UserReader } from '../../src/driver-kit/index.js';
import { encodeFrame, IntegraDecoder, MAX_FRAME, type IntegraFrame } from './codec.js';
import { integraSession, integraSettings } from './driver.js';
import { Cmd } from './messages.js';

/**
 * The INTEGRA decoder and session for bench/fuzz.mjs and test/drivers/hostile-fuzz.test.ts: how
 * to make a decoder, what a valid frame looks like, how much it holds; and the hostile cases
 * (drivers/fuzz-hostile.ts): `users list` on a stream, and frames that answer none of its
 * questions. `fc` is fast-check, passed in so the driver has no dependency on it.
 */
export function fuzzTarget(fc: typeof FastCheck) {
  // Commands the conversation never asks (state and zone frames), so a flood of them answers nothing.
  const asked = new Set<number>([Cmd.readSelf, Cmd.readUser, Cmd.readUserList, Cmd.result, Cmd.integraVersion, Cmd.moduleVersion]);
  const unrelated = fc.sample(
    fc
      .tuple(
        fc.integer({ min: 0, max: 0xfd }).filter((cmd) => !asked.has(cmd)),
        fc.uint8Array({ maxLength: 32 }),
      )
      .map(([cmd, data]) => encodeFrame(cmd, data)),
    { numRuns: 64, seed: 14 },
  );
  return {
    name: 'integra',
    decoder: () => new IntegraDecoder(),
    frame: fc.tuple(fc.integer({ min: 0, max: 0xfd }), fc.uint8Array({ maxLength: 48 })).map(([cmd, data]) => encodeFrame(cmd, data)),
    held: (d: IntegraDecoder) => d.held,
    cap: MAX_FRAME,
    isGood: (out: IntegraFrame[], frame: Uint8Array) => out.some((f) => f.kind === 'frame') && frame.length > 0,
    hostile: {
      start(stream: ByteStream) {
        const decoder = new IntegraDecoder();
        const channel = new FrameChannel(stream, decoder);
        const options: OpenOptions = {
          link: { kind: 'tcp', host: 'hostile', port: 7094, url: stream.description },
          secrets: { code: new Secret('73918264') },
          options: {},
          timeoutMs: 60_000,
        };
        const session = integraSession(channel, decoder, options, integraSettings(options, {}));
        return { done: (session.reader as UserReader).listUsers(), held: () => channel.queued + decoder.held };
      },
      cap: DEFAULT_LIMITS.maxQueued + MAX_FRAME,
      unrelated,
    },
  };
}
