import { describe, expect, it } from 'vitest';
import { MbapDecoder, encodeMbap } from '../../../drivers/modbus/mbap.js';
import { parseRequest, readRequest, registersResponse, writeRegistersRequest, exceptionResponse, parseRegistersResponse } from '../../../drivers/modbus/pdu.js';
import { RtuDecoder, crc16, encodeRtu, requestLength, responseLength } from '../../../drivers/modbus/rtu.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('CRC-16/MODBUS', () => {
  it('matches the published examples', () => {
    // "MODBUS over Serial Line" and the classic read of slave 17 registers 40108..40110.
    expect(encodeRtu(0x11, hex('03 006B 0003')).toString('hex')).toBe('1103006b00037687');
    expect(encodeRtu(0x01, hex('03 0000 000A')).toString('hex')).toBe('01030000000ac5cd');
    expect(encodeRtu(0x01, hex('03 0000 0001')).toString('hex')).toBe('010300000001840a');
    expect(crc16(hex('0207'))).toBe(0x1241);
  });
});

describe('RTU framing', () => {
  const request = encodeRtu(1, readRequest(3, 1000, 125));
  const write = encodeRtu(1, writeRegistersRequest(1016, [7, 0, 1, 0x4142]));
  const response = encodeRtu(1, registersResponse(3, [1, 2, 3]));

  it('knows request and response lengths from the function code', () => {
    expect(requestLength(request, 0, request.length)).toBe(8);
    expect(requestLength(write, 0, 6)).toBe('more');
    expect(requestLength(write, 0, write.length)).toBe(write.length);
    expect(responseLength(response, 0, 2)).toBe('more');
    expect(responseLength(response, 0, response.length)).toBe(response.length);
    expect(responseLength(encodeRtu(1, exceptionResponse(3, 2)), 0, 5)).toBe(5);
    expect(requestLength(hex('01 63'), 0, 2)).toBe('unknown');
  });

  it('decodes frames split at every point and frames that arrive together', () => {
    for (let cut = 0; cut <= write.length; cut++) {
      const decoder = new RtuDecoder('request');
      const frames = [...decoder.push(write.subarray(0, cut)), ...decoder.push(write.subarray(cut))];
      expect(frames).toEqual([{ unit: 1, pdu: write.subarray(1, -2) }]);
    }
    const decoder = new RtuDecoder('request');
    expect(decoder.push(Buffer.concat([request, write, request])).map((f) => f.pdu[0])).toEqual([3, 16, 3]);
  });

  it('drops a frame with a bad CRC, counts it, and finds the next good one', () => {
    const spoiled = Buffer.from(request);
    spoiled[4] ^= 0x01;
    const decoder = new RtuDecoder('request');
    const frames = decoder.push(Buffer.concat([spoiled, request]));
    expect(frames).toHaveLength(1);
    expect(frames[0].pdu).toEqual(request.subarray(1, -2));
    expect(decoder.badCrc).toBeGreaterThanOrEqual(1);
  });

  it('skips noise in front of a frame', () => {
    const decoder = new RtuDecoder('response');
    const frames = decoder.push(Buffer.concat([hex('fe fe 7e d7 e2 fe 0d'), response]));
    expect(frames).toEqual([{ unit: 1, pdu: response.subarray(1, -2) }]);
  });

  it('waits for the rest of a partial frame, and silence (idle) discards it', () => {
    const decoder = new RtuDecoder('request');
    expect(decoder.push(write.subarray(0, 9))).toEqual([]);
    expect(decoder.held).toBe(9);
    expect(decoder.idle()).toEqual([]);
    expect(decoder.held).toBe(0);
    expect(decoder.push(request)).toHaveLength(1);
  });

  it('after silence, takes a CRC-valid frame of an unknown function whole (so a device can answer exception 1)', () => {
    const odd = encodeRtu(1, hex('63 01 02 03'));
    const decoder = new RtuDecoder('request');
    expect(decoder.push(odd)).toEqual([]);
    expect(decoder.idle()).toEqual([{ unit: 1, pdu: hex('63 01 02 03') }]);
  });

  it('never holds more than the largest frame', () => {
    const decoder = new RtuDecoder('request');
    decoder.push(hex('01 10 00 00 00 7b f6')); // claims 246 data bytes
    decoder.push(Buffer.alloc(1000, 0x55));
    expect(decoder.held).toBeLessThanOrEqual(256);
  });
});

describe('MBAP framing', () => {
  const frame = encodeMbap(0x1234, 1, readRequest(3, 0, 12));

  it('writes the header of the TCP implementation guide: transaction, protocol 0, length, unit', () => {
    expect(frame.toString('hex')).toBe('1234000000060103000000' + '0c');
  });

  it('decodes frames split anywhere and merged', () => {
    for (let cut = 0; cut <= frame.length; cut++) {
      const decoder = new MbapDecoder();
      expect([...decoder.push(frame.subarray(0, cut)), ...decoder.push(frame.subarray(cut))]).toEqual([
        { transactionId: 0x1234, unit: 1, pdu: readRequest(3, 0, 12) },
      ]);
    }
    expect(new MbapDecoder().push(Buffer.concat([frame, frame]))).toHaveLength(2);
  });

  it('is not fooled by a header with a wrong protocol id or an impossible length', () => {
    const decoder = new MbapDecoder();
    const garbage = hex('0001 0007 0006 01 03 0000 0001'); // protocol 7
    const huge = hex('0001 0000 0400 01'); // length 1024
    const frames = decoder.push(Buffer.concat([garbage, huge, frame]));
    expect(frames).toEqual([{ transactionId: 0x1234, unit: 1, pdu: readRequest(3, 0, 12) }]);
    expect(decoder.skipped).toBe(garbage.length + huge.length);
  });

  it('idle() drops a frame that will not be completed', () => {
    const decoder = new MbapDecoder();
    decoder.push(frame.subarray(0, 9));
    decoder.idle();
    expect(decoder.push(frame)).toHaveLength(1);
  });
});

describe('PDUs', () => {
  it('parses the requests the device serves, with the limits of section 6', () => {
    expect(parseRequest(readRequest(3, 1000, 125))).toEqual({ request: { fc: 3, address: 1000, quantity: 125 } });
    expect(parseRequest(readRequest(3, 1000, 126))).toEqual({ exception: 3 });
    expect(parseRequest(readRequest(3, 1000, 0))).toEqual({ exception: 3 });
    expect(parseRequest(hex('05 0000 ff00'))).toEqual({ request: { fc: 5, address: 0, on: true } });
    expect(parseRequest(hex('05 0000 1234'))).toEqual({ exception: 3 });
    expect(parseRequest(hex('06 0064 0001'))).toEqual({ request: { fc: 6, address: 100, value: 1 } });
    expect(parseRequest(writeRegistersRequest(1016, [1, 2]))).toEqual({ request: { fc: 16, address: 1016, values: [1, 2] } });
    expect(parseRequest(hex('10 0000 0002 03 000100'))).toEqual({ exception: 3 }); // byte count disagrees
    expect(parseRequest(hex('0f 0000 000a 02 0503'))).toEqual({
      request: { fc: 15, address: 0, bits: [true, false, true, false, false, false, false, false, true, true] },
    });
    expect(parseRequest(hex('2b 0e 01 00'))).toEqual({ exception: 1 });
  });

  it('reads a registers response strictly', () => {
    expect(parseRegistersResponse(registersResponse(3, [1, 0xffff]), 3, 2)).toEqual({ values: [1, 0xffff] });
    expect(parseRegistersResponse(exceptionResponse(3, 2), 3, 2)).toEqual({ exception: 2 });
    expect(parseRegistersResponse(registersResponse(3, [1]), 3, 2)).toHaveProperty('malformed');
  });
});
