import { DscDecoder, encodeMessage, MAX_LINE, type DscFrame } from './codec.js';

/**
 * The DSC decoder for bench/fuzz.mjs: how to make one, what a valid message looks like, how much
 * it holds, and what to send before a good message so a half-line of garbage cannot swallow it
 * (a CR LF, as a real client would after line noise). `fc` is fast-check, passed in so the driver
 * has no dependency on it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fuzzTarget(fc: any) {
  const keys = '0123456789ABCDEF *#<>P^';
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
  };
}
