import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { noisyFrames } from '../../../drivers/fuzz-noise.js';
import { fuzzTarget, validFrames } from '../../../drivers/modbus/fuzz-target.js';
import { MbapDecoder } from '../../../drivers/modbus/mbap.js';
import { RtuDecoder } from '../../../drivers/modbus/rtu.js';

/**
 * Property tests of the RTU and MBAP decoders (a sample; `node bench/fuzz.mjs` runs 100,000+):
 * garbage never throws or grows the buffer, and a good frame after it still decodes.
 */

const RUNS = 2000;

describe('Modbus decoders under random input', () => {
  it(`never throw, stay bounded, and decode a good frame after a silent gap (${RUNS} runs)`, () => {
    const target = fuzzTarget(fc);
    fc.assert(
      fc.property(fc.array(noisyFrames(fc, target.frame), { minLength: 1, maxLength: 4 }), target.frame, (chunks, good) => {
        const decoder = target.decoder();
        for (const chunk of chunks) {
          decoder.push(chunk);
          expect(target.held(decoder)).toBeLessThanOrEqual(target.cap);
        }
        target.resync();
        expect(target.isGood(decoder.push(good), good)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('decode back-to-back valid frames however the bytes are split, losing and inventing nothing', () => {
    const kinds = validFrames(fc);
    const decoders = { requests: () => new RtuDecoder('request'), responses: () => new RtuDecoder('response'), mbap: () => new MbapDecoder() };
    for (const kind of ['requests', 'responses', 'mbap'] as const) {
      fc.assert(
        fc.property(fc.array(kinds[kind], { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
          const stream = Buffer.concat(frames);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const decoder = decoders[kind]();
          const out: Buffer[] = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            for (const f of decoder.push(stream.subarray(from, to)) as Array<{ unit: number; pdu: Buffer; transactionId?: number }>)
              out.push(
                f.transactionId !== undefined
                  ? Buffer.concat([Buffer.from([f.transactionId >> 8, f.transactionId & 0xff, 0, 0, 0, f.pdu.length + 1, f.unit]), f.pdu])
                  : Buffer.concat([Buffer.from([f.unit]), f.pdu]),
              );
            from = to;
          }
          const expected = frames.map((f) => (kind === 'mbap' ? f : f.subarray(0, -2)));
          expect(out).toEqual(expected);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('never pass an RTU frame with one byte changed (the CRC catches it)', () => {
    fc.assert(
      fc.property(fc.oneof(validFrames(fc).requests, validFrames(fc).responses), fc.nat(), fc.integer({ min: 1, max: 255 }), (frame, where, xor) => {
        const spoiled = Buffer.from(frame);
        spoiled[where % spoiled.length] ^= xor;
        for (const role of ['request', 'response'] as const) {
          const decoder = new RtuDecoder(role);
          const out = [...decoder.push(spoiled), ...decoder.idle()];
          expect(out.some((f) => f.unit === spoiled[0] && Buffer.compare(f.pdu, spoiled.subarray(1, -2)) === 0)).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Modbus on a hostile peer (drivers/fuzz-hostile.ts; bench/fuzz.mjs runs 32 MB floods)', () => {
  it('an echoing peer ends users list in E_ECHO (exit 5)', async () => {
    const { echoCase } = await import('../../../drivers/fuzz-hostile.js');
    // echoCase throws unless the driver ended in E_ECHO, exit 5.
    await expect(echoCase(fuzzTarget(fc))).resolves.toBeUndefined();
  });

  it('4 MB of valid frames answering nothing end in E_FLOOD, with the client holding no more than one frame after every chunk', async () => {
    const { floodCase } = await import('../../../drivers/fuzz-hostile.js');
    const target = fuzzTarget(fc);
    const result = await floodCase(target, 4 * 1024 * 1024);
    expect(result.bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(result.maxHeld).toBeLessThanOrEqual(target.hostile.cap);
  });
});
