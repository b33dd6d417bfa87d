import { describe, expect, it } from 'vitest';
import { encodeFrame, IntegraDecoder, MAX_FRAME, SYNC } from '../../../drivers/integra/codec.js';
import { encodeDigits, encodePhoneCode } from '../../../drivers/integra/bcd.js';

// Rules of the INTEGRA framing that a mutation run showed no test would notice breaking (issue 21).

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const ascii = (text: string) => Buffer.from(text, 'latin1');
const decodeAll = (...chunks: Buffer[]) => {
  const decoder = new IntegraDecoder();
  return { decoder, frames: chunks.flatMap((c) => decoder.push(c)) };
};

describe('INTEGRA decoder: frames', () => {
  it('counts a frame too short to hold a command and a CRC as malformed, not as a bad CRC', () => {
    const { decoder, frames } = decodeAll(hex('FE FE 09 FE 0D FE FE 09 D7 FE 0D'));
    expect(frames).toEqual([]);
    expect(decoder.malformed).toBe(2);
    expect(decoder.badCrc).toBe(0);
    expect(decoder.dropped).toBe(2);
  });

  it('starts a frame only at FE FE: FE followed by another byte between frames is noise', () => {
    // Page 2's frame 09 D7 EB, but led in by FE 00 instead of FE FE.
    const { decoder, frames } = decodeAll(hex('FE 00 09 D7 EB FE 0D'), encodeFrame(0x09));
    expect(frames).toEqual([{ kind: 'frame', cmd: 0x09, data: Buffer.alloc(0) }]);
    expect(decoder.dropped).toBe(0);
  });

  it('takes a frame of exactly MAX_FRAME bytes (command, data, CRC) and drops one a byte longer', () => {
    const fits = Buffer.alloc(MAX_FRAME - 3, 0x41);
    expect(decodeAll(encodeFrame(0x7f, fits)).frames).toEqual([{ kind: 'frame', cmd: 0x7f, data: fits }]);
    const { decoder, frames } = decodeAll(encodeFrame(0x7f, Buffer.alloc(MAX_FRAME - 2, 0x41)), encodeFrame(0x09));
    expect(frames).toEqual([{ kind: 'frame', cmd: 0x09, data: Buffer.alloc(0) }]);
    expect(decoder.malformed).toBe(1);
  });
});

describe('INTEGRA decoder: the ETHM-1 "Busy" greeting', () => {
  it('has seen no greeting until one arrives, frames included', () => {
    const { decoder } = decodeAll(encodeFrame(0x09));
    expect(decoder.busySeen).toBe(false);
  });

  it('recognises the greeting after a frame, and after a line break', () => {
    expect(decodeAll(encodeFrame(0x09), ascii('Busy!')).frames).toEqual([
      { kind: 'frame', cmd: 0x09, data: Buffer.alloc(0) },
      { kind: 'busy', text: 'Busy' },
    ]);
    expect(decodeAll(ascii('ETHM\r\nBusy!')).frames).toEqual([{ kind: 'busy', text: 'Busy' }]);
  });

  it('is broken by a byte that is not printable ASCII, and found after one', () => {
    expect(decodeAll(ascii('Bu\x00sy!')).decoder.busySeen).toBe(false);
    for (const text of ['ETHM\x00Busy!', 'ETHM\x1fBusy!', 'ETHM\x7fBusy!', 'ETHM\xe9Busy!']) {
      expect(decodeAll(ascii(text)).decoder.busySeen, JSON.stringify(text)).toBe(true);
    }
  });

  it('reports each greeting once', () => {
    expect(decodeAll(ascii('Busy!!! Busy')).frames).toEqual([{ kind: 'busy', text: 'Busy' }]);
    expect(decodeAll(ascii('BusyBusy')).frames).toEqual([
      { kind: 'busy', text: 'Busy' },
      { kind: 'busy', text: 'Busy' },
    ]);
  });

  it('must start a run of text: space and tilde are text, so "ETHM Busy" is not a greeting', () => {
    for (const text of ['ETHM Busy!', 'ETHM~Busy!']) expect(decodeAll(ascii(text)).decoder.busySeen, text).toBe(false);
  });

  it('holds at most 16 characters of text while looking for it', () => {
    const { decoder } = decodeAll(ascii('x'.repeat(200)));
    expect((decoder as unknown as { text: string }).text).toHaveLength(16);
  });

  it('drops the text seen before a frame', () => {
    expect(decodeAll(ascii('Bu'), Buffer.of(SYNC, 0x00), ascii('sy!')).decoder.busySeen).toBe(false);
  });
});

describe('INTEGRA BCD fields: errors say what is wrong', () => {
  it('names the number of digits a field holds', () => {
    expect(() => encodeDigits('123456789', 4)).toThrow(new RangeError('expected at most 8 digits'));
    expect(() => encodeDigits('12345', 2)).toThrow(new RangeError('expected at most 4 digits'));
  });

  it('refuses a telephone code that is not exactly four digits, whatever surrounds them', () => {
    for (const phone of ['12345', 'x1234', '1234x', '123']) {
      expect(() => encodePhoneCode(phone), phone).toThrow(new RangeError('a telephone code is four digits'));
    }
  });
});
