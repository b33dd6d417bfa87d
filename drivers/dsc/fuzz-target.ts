import type * as FastCheck from 'fast-check';
import { Secret } from '../../src/driver-kit/index.js';
import { DEFAULT_LIMITS } from '../../src/driver-kit/index.js';
import type { ByteStream, PanelSession } from '../../src/driver-kit/index.js';
import { DscDecoder, encodeMessage, MAX_LINE, type DscFrame } from './codec.js';
import { dscSession } from './driver.js';
import { newKeypad } from './keypad.js';

/**
 * The DSC decoder for bench/fuzz.mjs: how to make one, what a valid message looks like, how much
 * it holds, and what to send before a good message so a half-line of garbage cannot swallow it
 * (a CR LF, as a real client would after line noise); and the hostile cases (drivers/fuzz-hostile.ts):
 * opening an IT-100 session on a stream, and messages that answer none of its questions. `fc` is
 * fast-check, passed in so the driver has no dependency on it.
 */
export function fuzzTarget(fc: typeof FastCheck) {
  const keys = '0123456789ABCDEF *#<>P^';
  // Status messages a panel sends unasked; none acknowledges a command, refuses, or draws the LCD.
  const chatter = ['510', '511', '550', '560', '609', '610', '650', '651', '654', '655', '656', '657', '840', '841', '849'];
  const unrelated = fc.sample(
    fc
      .tuple(fc.constantFrom(...chatter), fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'.split('')), maxLength: 6 }))
      .map(([cmd, data]: [string, string]) => encodeMessage(cmd, data)),
    { numRuns: 64, seed: 14 },
  );
  return {
    name: 'dsc',
    decoder: () => new DscDecoder(),
    frame: fc
      .tuple(fc.integer({ min: 0, max: 999 }), fc.string({ unit: fc.constantFrom(...keys.split('')), maxLength: 40 }))
      .map(([cmd, data]: [number, string]) => encodeMessage(String(cmd).padStart(3, '0'), data)),
    held: (decoder: DscDecoder) => decoder.held,
    cap: MAX_LINE,
    resync: () => Uint8Array.of(0x0d, 0x0a),
    isGood: (out: DscFrame[], frame: Uint8Array) => frame.length > 0 && out.some((f) => f.kind === 'message'),
    hostile: {
      start(stream: ByteStream) {
        const keypad = newKeypad(stream, { module: 'it100', timeoutMs: 60_000 });
        const done = dscSession(keypad, {
          link: { kind: 'serial', path: stream.description, url: stream.description },
          secrets: { code: new Secret('739182') },
          options: { module: 'it100' },
          timeoutMs: 60_000,
        }).then((session: PanelSession) => session.reader?.listUsers()); // an IT-100 session: it has a reader
        return { done, held: () => keypad.channel.queued + keypad.decoder.held };
      },
      cap: DEFAULT_LIMITS.maxQueued + MAX_LINE,
      unrelated,
    },
  };
}
