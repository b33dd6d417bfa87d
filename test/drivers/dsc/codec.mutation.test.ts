import { describe, expect, it } from 'vitest';
import { DscDecoder, encodeCorrupted, encodeMessage, MAX_LINE, parseLine } from '../../../drivers/dsc/codec.js';

// Rules of the IT-100 / TPI framing that a mutation run showed no test would notice breaking (issue 21).

describe('DSC encoding', () => {
  it('refuses a command that is not exactly three digits, naming it', () => {
    for (const command of ['65', '6543', 'x654', '654x', '65a']) {
      expect(() => encodeMessage(command), command).toThrow(`a command is three digits (got "${command}")`);
    }
  });

  it('sends each character as one byte (latin1), so the checksum covers what goes on the wire', () => {
    const line = encodeMessage('901', 'Zone\xb0');
    expect(line).toHaveLength(3 + 5 + 2 + 2);
    expect(line[7]).toBe(0xb0);
  });

  it('spoils the checksum of a corrupted line and nothing else, keeping two hex digits', () => {
    expect(parseLine(encodeCorrupted('000').toString('latin1').trimEnd())).toEqual({ kind: 'bad-checksum', command: '000', data: '' });
    // '000`' sums to 0xF0: spoiled by 0x11 it wraps to 0x01, which must still travel as "01".
    const wrapped = encodeCorrupted('000', '`').toString('latin1');
    expect(wrapped).toHaveLength(3 + 1 + 2 + 2);
    expect(parseLine(wrapped.trimEnd())).toEqual({ kind: 'bad-checksum', command: '000', data: '`' });
    const sign = encodeCorrupted('901', 'Zone\xb0');
    expect(sign[7]).toBe(0xb0);
  });
});

describe('DSC line parsing', () => {
  it('takes a timestamp only at the start of the line', () => {
    const line = encodeMessage('901', 'at 12:34:56 ok').toString('latin1').trimEnd();
    expect(parseLine(line)).toEqual({ kind: 'message', command: '901', data: 'at 12:34:56 ok' });
  });

  it('wants the whole line to be a message: three digits first, two checksum digits last', () => {
    for (const line of ['x6543D2', '6543D2x', '6AB3D2', '65 3D2']) expect(parseLine(line), line).toBeUndefined();
  });
});

describe('DSC decoder', () => {
  it(`takes a line of exactly ${MAX_LINE} characters and drops one a character longer`, () => {
    const longest = encodeMessage('901', 'x'.repeat(MAX_LINE - 5));
    const tooLong = encodeMessage('901', 'x'.repeat(MAX_LINE - 4));
    const decoder = new DscDecoder();
    expect(decoder.push(Buffer.concat([longest, tooLong, longest])).map((f) => f.data.length)).toEqual([MAX_LINE - 5, MAX_LINE - 5]);
    expect(decoder.malformed).toBe(1);
  });

  it('counts only bad checksums as bad checksums', () => {
    const decoder = new DscDecoder();
    decoder.push(Buffer.concat([encodeMessage('500', '000'), encodeMessage('000')]));
    expect(decoder.badChecksum).toBe(0);
    decoder.push(encodeCorrupted('500', '000'));
    expect(decoder.badChecksum).toBe(1);
  });
});
