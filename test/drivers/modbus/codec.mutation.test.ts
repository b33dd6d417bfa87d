import { describe, expect, it } from 'vitest';
import { encodeMbap, MbapDecoder, MBAP_HEADER } from '../../../drivers/modbus/mbap.js';
import { encodeRtu, MAX_RTU_FRAME, requestLength, responseLength, RtuDecoder } from '../../../drivers/modbus/rtu.js';

// Rules of Modbus RTU and MBAP framing that a mutation run showed no test would notice breaking (issue 21).
// Lengths: Modbus Application Protocol V1.1b3 section 6; RTU: MODBUS over Serial Line V1.02 2.5.1.

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
/** Two bytes of something else in front, so every length is read at an offset. */
const at2 = (...bytes: number[]) => Buffer.from([0xaa, 0xbb, ...bytes]);
const withCount = (fc: number, countAt: number, count: number) => {
  const bytes = Array<number>(countAt + 1).fill(0);
  bytes[1] = fc;
  bytes[countAt] = count;
  return at2(...bytes);
};

describe('RTU request lengths by function code', () => {
  it('needs the unit and function code first', () => {
    expect(requestLength(at2(1), 2, 1)).toBe('more');
    expect(requestLength(at2(1, 3), 2, 2)).toBe(8);
  });

  it('fixed lengths', () => {
    for (const fc of [1, 2, 3, 4, 5, 6, 8]) expect(requestLength(at2(1, fc), 2, 2), `fc ${fc}`).toBe(8);
    for (const fc of [7, 11, 12, 17]) expect(requestLength(at2(1, fc), 2, 2), `fc ${fc}`).toBe(4);
    expect(requestLength(at2(1, 22), 2, 2)).toBe(10);
    expect(requestLength(at2(1, 43), 2, 2)).toBe(7);
    for (const fc of [0, 9, 24, 0x83, 99]) expect(requestLength(at2(1, fc), 2, 2), `fc ${fc}`).toBe('unknown');
  });

  it('write multiple (15, 16): byte count at offset 6, up to 246', () => {
    for (const fc of [15, 16]) {
      expect(requestLength(withCount(fc, 6, 4), 2, 6)).toBe('more');
      expect(requestLength(withCount(fc, 6, 4), 2, 7)).toBe(13);
      expect(requestLength(withCount(fc, 6, 246), 2, 7)).toBe(255);
      expect(requestLength(withCount(fc, 6, 247), 2, 7)).toBe('unknown');
    }
  });

  it('read/write multiple (23): byte count at offset 10, up to 242', () => {
    expect(requestLength(withCount(23, 10, 4), 2, 10)).toBe('more');
    expect(requestLength(withCount(23, 10, 4), 2, 11)).toBe(17);
    expect(requestLength(withCount(23, 10, 242), 2, 11)).toBe(255);
    expect(requestLength(withCount(23, 10, 243), 2, 11)).toBe('unknown');
  });
});

describe('RTU response lengths by function code', () => {
  it('needs the unit and function code first', () => {
    expect(responseLength(at2(1), 2, 1)).toBe('more');
    expect(responseLength(at2(1, 6), 2, 2)).toBe(8);
  });

  it('an exception is five bytes, but function 0 with the error bit is nothing', () => {
    expect(responseLength(at2(1, 0x83), 2, 2)).toBe(5);
    expect(responseLength(at2(1, 0x81), 2, 2)).toBe(5);
    expect(responseLength(at2(1, 0x80), 2, 2)).toBe('unknown');
  });

  it('byte-counted reads: count at offset 2, up to 250, even for register reads', () => {
    for (const fc of [1, 2, 3, 4, 12, 17, 23]) {
      expect(responseLength(withCount(fc, 2, 6), 2, 2), `fc ${fc}`).toBe('more');
      expect(responseLength(withCount(fc, 2, 6), 2, 3), `fc ${fc}`).toBe(11);
      expect(responseLength(withCount(fc, 2, 250), 2, 3), `fc ${fc}`).toBe(255);
      expect(responseLength(withCount(fc, 2, 251), 2, 3), `fc ${fc}`).toBe('unknown');
    }
    for (const fc of [3, 4, 23]) expect(responseLength(withCount(fc, 2, 5), 2, 3), `fc ${fc}`).toBe('unknown');
    for (const fc of [1, 2, 12, 17]) expect(responseLength(withCount(fc, 2, 5), 2, 3), `fc ${fc}`).toBe(10);
  });

  it('fixed lengths, and none for function 43 or unknown functions', () => {
    for (const fc of [5, 6, 8, 11, 15, 16]) expect(responseLength(at2(1, fc), 2, 2), `fc ${fc}`).toBe(8);
    expect(responseLength(at2(1, 7), 2, 2)).toBe(5);
    expect(responseLength(at2(1, 22), 2, 2)).toBe(10);
    for (const fc of [43, 0, 9, 24, 99]) expect(responseLength(at2(1, fc), 2, 2), `fc ${fc}`).toBe('unknown');
  });
});

describe('RTU decoder', () => {
  // Read exception status (function 7): the shortest request, four bytes.
  const shortest = encodeRtu(0x64, hex('07'));

  it('decodes a four-byte frame, the shortest there is', () => {
    expect(new RtuDecoder('request').push(shortest)).toEqual([{ unit: 0x64, pdu: hex('07') }]);
  });

  it('skips a noise byte in front of a frame at once when the frame ends the buffer', () => {
    const decoder = new RtuDecoder('request');
    expect(decoder.push(Buffer.concat([Buffer.of(0xaa), shortest]))).toEqual([{ unit: 0x64, pdu: hex('07') }]);
    expect(decoder.skipped).toBe(1);
  });

  it('counts nothing as skipped when nothing was', () => {
    const decoder = new RtuDecoder('request');
    decoder.push(encodeRtu(1, hex('03 0000 0001')));
    expect(decoder.skipped).toBe(0);
    expect(decoder.held).toBe(0);
  });

  it('keeps the newest MAX_RTU_FRAME bytes of a flood and counts the rest as skipped', () => {
    const decoder = new RtuDecoder('request');
    decoder.push(Buffer.alloc(MAX_RTU_FRAME + 44, 0)); // function 0: no length, no later frame: kept for idle()
    expect(decoder.held).toBe(MAX_RTU_FRAME);
    expect(decoder.skipped).toBe(44);
  });

  it('after silence, a frame cut short is dropped a byte at a time, so a whole frame behind it is still found', () => {
    const answer = encodeRtu(1, hex('06 0001 0003'));
    const decoder = new RtuDecoder('response');
    // A register-read answer that announces 64 bytes, then silence before they came, then a complete answer.
    expect(decoder.push(Buffer.concat([hex('01 03 40'), answer]))).toEqual([]);
    expect(decoder.idle()).toEqual([{ unit: 1, pdu: hex('06 0001 0003') }]);
  });

  it('waits for a frame of unknown length (function 43) until silence, whatever bytes it holds', () => {
    const deviceId = encodeRtu(1, hex('2B 0E 01 01 00 00 03 00 05 53 41 54 45 4C 01 04 49 4E 54 31 02 03 31 2E 30'));
    const decoder = new RtuDecoder('response');
    expect(decoder.push(deviceId)).toEqual([]);
    expect(decoder.idle()).toEqual([{ unit: 1, pdu: deviceId.subarray(1, -2) }]);
  });

  it('reset() forgets a partial frame', () => {
    const decoder = new RtuDecoder('request');
    decoder.push(hex('01 03 00'));
    decoder.reset();
    expect(decoder.held).toBe(0);
    expect(decoder.push(encodeRtu(2, hex('03 0000 0001')))).toEqual([{ unit: 2, pdu: hex('03 0000 0001') }]);
  });
});

describe('MBAP decoder', () => {
  it('judges a header as soon as its seven bytes are in', () => {
    const decoder = new MbapDecoder();
    decoder.push(hex('0001 0007 0006 01')); // protocol id 7: not a header
    expect(decoder.skipped).toBe(1);
    expect(decoder.held).toBe(MBAP_HEADER - 1);
  });

  it('takes the largest PDU (253 bytes) and refuses a length field one larger', () => {
    const pdu = Buffer.alloc(253, 0x41);
    pdu[0] = 0x10;
    expect(new MbapDecoder().push(encodeMbap(9, 1, pdu))).toEqual([{ transactionId: 9, unit: 1, pdu }]);
    const decoder = new MbapDecoder();
    decoder.push(hex('0009 0000 00FF 01'));
    expect(decoder.skipped).toBe(1);
  });

  it('reset() forgets a partial frame', () => {
    const decoder = new MbapDecoder();
    decoder.push(hex('0001 0000 0006 01 03'));
    decoder.reset();
    expect(decoder.held).toBe(0);
    expect(decoder.push(encodeMbap(2, 1, hex('03 0000 0001')))).toEqual([{ transactionId: 2, unit: 1, pdu: hex('03 0000 0001') }]);
  });
});

describe('RTU decoder: what counts as noise', () => {
  const shortest = encodeRtu(0x64, hex('07'));

  it('drops a byte as noise only when a whole, CRC-valid frame is found behind it', () => {
    const decoder = new RtuDecoder('request');
    // Function 0x64 has no length; behind it 64 03 could start a read request, but not a whole one.
    expect(decoder.push(hex('AA 64 03 00 00'))).toEqual([]);
    expect(decoder.skipped).toBe(0);
    expect(decoder.held).toBe(5);
  });

  it('waits for the rest of a write-multiple request even when its first bytes hold a short valid frame', () => {
    // Starting address and quantity chosen so that bytes 2-5 are the four-byte frame 64 07 + CRC.
    const request = encodeRtu(1, Buffer.concat([hex('10'), shortest, hex('02 0001')]));
    const decoder = new RtuDecoder('request');
    expect(decoder.push(request.subarray(0, 6))).toEqual([]);
    expect(decoder.push(request.subarray(6))).toEqual([{ unit: 1, pdu: request.subarray(1, -2) }]);
  });
});
