import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc, encodeFrame, IntegraDecoder, MAX_FRAME, wrapFrame, type IntegraFrame } from '../../../drivers/integra/codec.js';
import { decodeBitmap, encodeBitmap, encodeName, decodeName, formatVersion } from '../../../drivers/integra/messages.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const frames = (decoder: IntegraDecoder, ...chunks: Buffer[]) => chunks.flatMap((c) => decoder.push(c));

describe("INTEGRA framing: the specification's own examples", () => {
  it('Appendix 4 (page 26): read self-info with code 1234 has CRC 0x8A9B', () => {
    expect(crc(Uint8Array.from([0xe0, 0x12, 0x34, 0xff, 0xff]))).toBe(0x8a9b);
    expect(encodeFrame(0xe0, [0x12, 0x34, 0xff, 0xff])).toEqual(hex('FE FE E0 12 34 FF FF 8A 9B FE 0D'));
  });

  it('Appendix 4 frame decodes to 0xE0 with the 4-byte code field 12 34 FF FF', () => {
    expect(frames(new IntegraDecoder(), hex('FE FE E0 12 34 FF FF 8A 9B FE 0D'))).toEqual([{ kind: 'frame', cmd: 0xe0, data: hex('12 34 FF FF') }]);
  });

  // Page 2's examples are the bare state queries 0x09 (armed partitions) and 0x1C (troubles part 2);
  // the second one's CRC is D7 FE, so its low byte travels stuffed as FE F0.
  it('page 2: FE FE 09 D7 EB FE 0D and FE FE 1C D7 FE F0 FE 0D (a stuffed CRC byte)', () => {
    expect(crc(Uint8Array.of(0x1c))).toBe(0xd7fe);
    expect(encodeFrame(0x09)).toEqual(hex('FE FE 09 D7 EB FE 0D'));
    expect(encodeFrame(0x1c)).toEqual(hex('FE FE 1C D7 FE F0 FE 0D'));
    const decoded = frames(new IntegraDecoder(), hex('FE FE 09 D7 EB FE 0D FE FE 1C D7 FE F0 FE 0D'));
    expect(decoded).toEqual([
      { kind: 'frame', cmd: 0x09, data: Buffer.alloc(0) },
      { kind: 'frame', cmd: 0x1c, data: Buffer.alloc(0) },
    ]);
  });

  it('page 3 and 10: bitmaps (zones 3, 14, 128; partitions 1, 2, 29)', () => {
    expect(decodeBitmap(hex('04 20 00 00 00 00 00 00 00 00 00 00 00 00 00 80'))).toEqual([3, 14, 128]);
    expect(encodeBitmap([1, 2, 29], 4)).toEqual(hex('03 00 00 10'));
  });

  it('names are Windows-1250, 16 bytes, space padded; versions are 11 digits', () => {
    expect(encodeName('Łukasz Żak')).toHaveLength(16);
    expect(decodeName(encodeName('Łukasz Żak'))).toBe('Łukasz Żak');
    expect(formatVersion('12320120527')).toBe('1.23 2012-05-27');
  });
});

describe('INTEGRA decoder under hostile input', () => {
  it('drops a frame with a bad CRC and counts it', () => {
    const decoder = new IntegraDecoder();
    expect(frames(decoder, hex('FE FE E0 12 34 FF FF 8A 9C FE 0D'))).toEqual([]);
    expect(decoder.badCrc).toBe(1);
    expect(frames(decoder, encodeFrame(0x7e))).toHaveLength(1);
  });

  it('counts a well-formed frame with a spoiled CRC as bad CRC, and a cut-off one as malformed', () => {
    const decoder = new IntegraDecoder();
    const sum = crc(Uint8Array.of(0x7e)) ^ 0x5a5a;
    expect(frames(decoder, wrapFrame([0x7e, sum >>> 8, sum & 0xff]))).toEqual([]);
    expect(decoder.badCrc).toBe(1);
    expect(frames(decoder, hex('FE FE 7E 01 02 FE FE'), encodeFrame(0x7e))).toHaveLength(1);
    expect(decoder.malformed).toBe(1);
    expect(decoder.dropped).toBe(2);
  });

  it('drops an over-long frame and resynchronises on the next one', () => {
    const decoder = new IntegraDecoder();
    const long = encodeFrame(0x10, new Uint8Array(MAX_FRAME + 10).fill(0x11));
    expect(frames(decoder, long, encodeFrame(0x0a))).toEqual([{ kind: 'frame', cmd: 0x0a, data: Buffer.alloc(0) }]);
    expect(decoder.malformed).toBe(1);
  });

  it('resynchronises on FE FE in mid-frame, and treats FE + other as sync', () => {
    const decoder = new IntegraDecoder();
    const good = encodeFrame(0x7c, [1, 2, 3]);
    expect(frames(decoder, Buffer.concat([hex('FE FE E1 01 02'), good]))).toEqual([{ kind: 'frame', cmd: 0x7c, data: Buffer.from([1, 2, 3]) }]);
    expect(frames(decoder, Buffer.concat([hex('FE FE E1 01 FE 55'), good.subarray(2)]))).toEqual([{ kind: 'frame', cmd: 0x7c, data: Buffer.from([1, 2, 3]) }]);
  });

  it('recognises the ETHM-1 "Busy" greeting', () => {
    const decoder = new IntegraDecoder();
    expect(frames(decoder, Buffer.from('Bu'), Buffer.from('sy!\r\n'))).toEqual([{ kind: 'busy', text: 'Busy' }]);
    expect(decoder.busySeen).toBe(true);
  });

  it('property: encode then decode is the identity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfd }), fc.uint8Array({ maxLength: 64 }), (cmd, data) => {
        const decoded = new IntegraDecoder().push(encodeFrame(cmd, data));
        expect(decoded).toEqual([{ kind: 'frame', cmd, data: Buffer.from(data) }]);
      }),
    );
  });

  it('property: a frame split at every byte offset decodes the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfd }), fc.uint8Array({ maxLength: 40 }), (cmd, data) => {
        const frame = encodeFrame(cmd, data);
        for (let cut = 0; cut <= frame.length; cut++) {
          const decoder = new IntegraDecoder();
          expect(frames(decoder, frame.subarray(0, cut), frame.subarray(cut))).toEqual([{ kind: 'frame', cmd, data: Buffer.from(data) }]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('property: any garbage before a frame still lets that frame decode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 0, max: 0xfd }), fc.uint8Array({ maxLength: 32 }), (garbage, cmd, data) => {
        const out = new IntegraDecoder().push(Buffer.concat([garbage, encodeFrame(cmd, data)]));
        expect(out.filter((f) => f.kind === 'frame').at(-1)).toEqual({ kind: 'frame', cmd, data: Buffer.from(data) });
      }),
      { numRuns: 500 },
    );
  });

  it('property: random bytes never throw and never grow the buffer past the cap; a good frame after them still decodes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const decoder = new IntegraDecoder();
        for (const chunk of chunks) decoder.push(chunk);
        expect((decoder as unknown as { body: number[] }).body.length).toBeLessThanOrEqual(MAX_FRAME);
        const out: IntegraFrame[] = decoder.push(Buffer.concat([Buffer.from([0xfe, 0xfe]), encodeFrame(0x7e, [3])]));
        expect(out.filter((f) => f.kind === 'frame').at(-1)).toEqual({ kind: 'frame', cmd: 0x7e, data: Buffer.from([3]) });
      }),
      { numRuns: 300 },
    );
  });
});
