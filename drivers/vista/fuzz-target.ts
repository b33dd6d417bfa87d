import type * as FastCheck from 'fast-check';
import type { ByteStream } from '../../src/driver-kit/index.js';
import { DEFAULT_LIMITS, Secret } from '../../src/driver-kit/index.js';
import { Ad2Decoder, type Ad2Frame, MAX_LINE } from './codec.js';
import { settingsFor, vistaSession } from './driver.js';
import { Ad2Keypad } from './keypad.js';
import { formatKeypadMessage } from './messages.js';

/**
 * The AlarmDecoder decoder for bench/fuzz.mjs: how to make one, what a valid line looks like, how
 * much it holds, what to send before a good line so a half-line of garbage cannot swallow it (a
 * line end); and the hostile cases (drivers/fuzz-hostile.ts): opening a session on a stream, and
 * lines that answer none of its questions (keypad messages for other keypads, expander and RF
 * reports). `fc` is fast-check, passed in so the driver has no dependency on it.
 */
export function fuzzTarget(fc: typeof FastCheck) {
  const text = fc.string({ unit: fc.constantFrom(...' ABCDEFGHIJKLMNOPQRSTUVWXYZ*0123456789'.split('')), maxLength: 16 });
  const line = (s: string) => Buffer.from(`${s}\r\n`, 'latin1');
  const unrelated = [
    line(formatKeypadMessage({ bits: { ready: true }, addresses: [20], lines: ['****DISARMED****', 'PARTITION 2'] })),
    line('!EXP:07,01,01'),
    line('!RFX:0180036,80'),
    line('!LRR:012,1,ARM_STAY'),
  ];
  return {
    name: 'vista',
    decoder: () => {
      const decoder = new Ad2Decoder();
      decoder.push(Uint8Array.of(0x0d, 0x0a));
      return decoder;
    },
    frame: fc
      .tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 999 }), fc.boolean(), text, text)
      .map(([beeps, numeric, ready, top, bottom]: [number, number, boolean, string, string]) =>
        line(formatKeypadMessage({ bits: { ready }, beeps, numeric, addresses: [18], lines: [top, bottom] })),
      ),
    held: (decoder: Ad2Decoder) => decoder.held,
    cap: MAX_LINE,
    resync: () => Uint8Array.of(0x0d, 0x0a),
    isGood: (out: Ad2Frame[], frame: Uint8Array) => frame.length > 0 && out.some((f) => f.kind === 'keypad'),
    hostile: {
      start(stream: ByteStream) {
        const keypad = new Ad2Keypad(stream, { address: 18, keyIntervalMs: 0, timeoutMs: 60_000 });
        const done = vistaSession(
          keypad,
          {
            link: { kind: 'serial', path: stream.description, url: stream.description },
            secrets: { code: new Secret('7391') },
            options: {},
            timeoutMs: 60_000,
          },
          settingsFor({}),
        ).then((session) => session.changeCode(5, new Secret('2846')));
        return { done, held: () => keypad.channel.queued + keypad.decoder.held };
      },
      cap: DEFAULT_LIMITS.maxQueued + MAX_LINE,
      unrelated,
    },
  };
}
