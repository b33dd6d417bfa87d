import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checksum, DscDecoder, encodeCorrupted, encodeMessage, MAX_LINE, parseLine } from '../../../drivers/dsc/codec.js';
import { decodeLcd, encodeLcd, splitKeys } from '../../../drivers/dsc/messages.js';
import { parseSlotLine, readDisplay, Screen, slotLine } from '../../../drivers/dsc/screens.js';

describe('DSC framing (IT-100 guide / TPI examples)', () => {
  it('encodes command 654 with data 3 as 6543D2 CR LF', () => {
    expect(checksum('6543')).toBe('D2');
    expect(encodeMessage('654', '3').toString('latin1')).toBe('6543D2\r\n');
  });

  it('encodes the poll 000 as 00090 CR LF', () => {
    expect(encodeMessage('000').toString('latin1')).toBe('00090\r\n');
  });

  it('matches checksums seen on real TPI traffic: low 8 bits, uppercase hex', () => {
    expect(encodeMessage('505', '3').toString('latin1')).toBe('5053CD\r\n');
    expect(encodeMessage('500', '005').toString('latin1')).toBe('5000052A\r\n');
    expect(encodeMessage('005', '123456').toString('latin1')).toBe('005123456CA\r\n'); // sum 0x1CA
    expect(encodeMessage('200', '1234').toString('latin1')).toBe('20012345C\r\n');
  });

  it('decodes messages split and merged anywhere, and drops the LF after CR', () => {
    const bytes = Buffer.concat([
      encodeMessage('500', '000'),
      encodeMessage('901', encodeLcd({ line: 1, column: 0, text: 'Code 05 User   P' })),
      encodeMessage('673', '1'),
    ]);
    for (const cut of [1, 3, 7, 12, bytes.length - 1]) {
      const decoder = new DscDecoder();
      const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      expect(frames.map((f) => `${f.kind}:${f.command}`)).toEqual(['message:500', 'message:901', 'message:673']);
      expect(decoder.malformed).toBe(0);
    }
  });

  it('reports a bad checksum as such (the module answers 501) and counts garbage', () => {
    const decoder = new DscDecoder();
    const frames = decoder.push(
      Buffer.concat([encodeCorrupted('070', '5'), Buffer.from('\xfe\xfe\x7e\xd8\x60\xfe\r', 'latin1'), Buffer.from('12\r\n'), encodeMessage('000')]),
    );
    expect(frames.map((f) => f.kind)).toEqual(['bad-checksum', 'message']);
    expect(decoder.badChecksum).toBe(1);
    expect(decoder.malformed).toBe(2);
  });

  it('rejects lowercase checksums (the TPI insists on uppercase)', () => {
    expect(parseLine('6543d2')?.kind).toBeUndefined();
  });

  it('skips a TPI timestamp prefix', () => {
    expect(parseLine('12:34:56 6543D2')).toEqual({ kind: 'message', command: '654', data: '3' });
  });

  it('drops an over-long line without holding more than the cap', () => {
    const decoder = new DscDecoder();
    decoder.push(Buffer.alloc(MAX_LINE * 4, 0x31));
    expect(decoder.held).toBeLessThanOrEqual(MAX_LINE);
    expect(decoder.push(Buffer.concat([Buffer.from('\r\n'), encodeMessage('000')])).map((f) => f.command)).toEqual(['000']);
    expect(decoder.malformed).toBe(1);
  });

  it('splits key strings into the 071 limit of six keys', () => {
    expect(splitKeys('05123456#')).toEqual(['051234', '56#']);
    expect(splitKeys('')).toEqual([]);
  });

  it('LCD updates round-trip, and the [*][5] screens read back', () => {
    const update = { line: 1, column: 0, text: slotLine(40, true) };
    expect(decodeLcd(encodeLcd(update))).toEqual(update);
    expect(decodeLcd('10005abc')).toBeUndefined(); // length says 5, text has 3
    expect(parseSlotLine(slotLine(7, false))).toEqual({ slot: 7, programmed: false });
    expect(readDisplay([Screen.selectHeader, slotLine(33, true)])).toEqual({ screen: 'select', slot: 33, programmed: true });
    expect(readDisplay([...Screen.walkTestIdle])).toEqual({ screen: 'idle', walkTest: true });
  });
});

describe('DSC decoder under random input (fast-check)', () => {
  const frame = fc
    .tuple(fc.integer({ min: 0, max: 999 }), fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF *#<>P'.split('')), maxLength: 40 }))
    .map(([cmd, data]) => ({ cmd: String(cmd).padStart(3, '0'), data }));

  it('never throws, stays bounded, and decodes a good message after any garbage', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 4 }), frame, (chunks, good) => {
        const decoder = new DscDecoder();
        for (const chunk of chunks) {
          decoder.push(chunk);
          expect(decoder.held).toBeLessThanOrEqual(MAX_LINE);
        }
        const out = decoder.push(Buffer.concat([Buffer.from('\r\n'), encodeMessage(good.cmd, good.data)]));
        expect(out.at(-1)).toEqual({ kind: 'message', command: good.cmd, data: good.data });
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes what it encodes, however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => encodeMessage(f.cmd, f.data)));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const decoder = new DscDecoder();
        const out = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          out.push(...decoder.push(bytes.subarray(at, p)));
          at = p;
        }
        expect(out.map((f) => [f.command, f.data])).toEqual(frames.map((f) => [f.cmd, f.data]));
      }),
      { numRuns: 2000 },
    );
  });
});
