/**
 * Modbus PDUs (Modbus Application Protocol V1.1b3): the function codes panelctl and its
 * simulator use, the exception codes, and encoders/parsers for requests and responses.
 * Pure; the same on RTU and TCP.
 */

export const FUNCTION_NAMES: Record<number, string> = {
  1: 'read coils',
  2: 'read discrete inputs',
  3: 'read holding registers',
  4: 'read input registers',
  5: 'write single coil',
  6: 'write single register',
  15: 'write multiple coils',
  16: 'write multiple registers',
};

/** Exception codes (section 7) in plain words. */
export const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Protocol limits per request (section 6): registers read 1..125, written 1..123, coils 1..2000 / 1..1968. */
export const LIMITS = { readRegisters: 125, writeRegisters: 123, readCoils: 2000, writeCoils: 1968 } as const;

export type Request =
  | { fc: 1 | 3; address: number; quantity: number }
  | { fc: 5; address: number; on: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 15; address: number; bits: boolean[] }
  | { fc: 16; address: number; values: number[] };

/** A parsed request, or the exception a device answers to a malformed one. */
export type Parsed = { request: Request } | { exception: number };

const u16 = (pdu: Uint8Array, at: number) => (pdu[at] << 8) | pdu[at + 1];

/** What a device makes of a request PDU; lengths and counts are checked as section 6 demands. */
export function parseRequest(pdu: Uint8Array): Parsed {
  const fc = pdu[0];
  switch (fc) {
    case 1:
    case 3: {
      if (pdu.length !== 5) return { exception: 3 };
      const quantity = u16(pdu, 3);
      const max = fc === 1 ? LIMITS.readCoils : LIMITS.readRegisters;
      if (quantity < 1 || quantity > max) return { exception: 3 };
      return { request: { fc, address: u16(pdu, 1), quantity } };
    }
    case 5: {
      if (pdu.length !== 5) return { exception: 3 };
      const value = u16(pdu, 3);
      if (value !== 0xff00 && value !== 0) return { exception: 3 };
      return { request: { fc, address: u16(pdu, 1), on: value === 0xff00 } };
    }
    case 6:
      if (pdu.length !== 5) return { exception: 3 };
      return { request: { fc, address: u16(pdu, 1), value: u16(pdu, 3) } };
    case 15: {
      if (pdu.length < 6) return { exception: 3 };
      const quantity = u16(pdu, 3);
      const bytes = pdu[5];
      if (quantity < 1 || quantity > LIMITS.writeCoils || bytes !== Math.ceil(quantity / 8) || pdu.length !== 6 + bytes) return { exception: 3 };
      const bits = Array.from({ length: quantity }, (_, i) => ((pdu[6 + (i >> 3)] >> (i & 7)) & 1) === 1);
      return { request: { fc, address: u16(pdu, 1), bits } };
    }
    case 16: {
      if (pdu.length < 6) return { exception: 3 };
      const quantity = u16(pdu, 3);
      const bytes = pdu[5];
      if (quantity < 1 || quantity > LIMITS.writeRegisters || bytes !== quantity * 2 || pdu.length !== 6 + bytes) return { exception: 3 };
      const values = Array.from({ length: quantity }, (_, i) => u16(pdu, 6 + i * 2));
      return { request: { fc, address: u16(pdu, 1), values } };
    }
    default:
      return { exception: 1 };
  }
}

export function isWrite(fc: number): boolean {
  return fc === 5 || fc === 6 || fc === 15 || fc === 16;
}

/* Requests, as a client sends them (the driver's probe and the tests use these). */

export function readRequest(fc: 1 | 3, address: number, quantity: number): Buffer {
  return Buffer.from([fc, address >> 8, address & 0xff, quantity >> 8, quantity & 0xff]);
}

export function writeRegistersRequest(address: number, values: number[]): Buffer {
  const pdu = Buffer.alloc(6 + values.length * 2);
  pdu[0] = 16;
  pdu.writeUInt16BE(address, 1);
  pdu.writeUInt16BE(values.length, 3);
  pdu[5] = values.length * 2;
  values.forEach((v, i) => pdu.writeUInt16BE(v & 0xffff, 6 + i * 2));
  return pdu;
}

/* Responses, as a device sends them. */

export function registersResponse(fc: 3 | 4, values: ArrayLike<number>): Buffer {
  const pdu = Buffer.alloc(2 + values.length * 2);
  pdu[0] = fc;
  pdu[1] = values.length * 2;
  for (let i = 0; i < values.length; i++) pdu.writeUInt16BE(values[i] & 0xffff, 2 + i * 2);
  return pdu;
}

export function bitsResponse(fc: 1 | 2, bits: boolean[]): Buffer {
  const pdu = Buffer.alloc(2 + Math.ceil(bits.length / 8));
  pdu[0] = fc;
  pdu[1] = pdu.length - 2;
  bits.forEach((bit, i) => {
    if (bit) pdu[2 + (i >> 3)] |= 1 << (i & 7);
  });
  return pdu;
}

/** FC 5/6 echo the request; FC 15/16 answer address and quantity. */
export function writeResponse(request: Request): Buffer {
  const pdu = Buffer.alloc(5);
  pdu[0] = request.fc;
  pdu.writeUInt16BE(request.address, 1);
  if (request.fc === 5) pdu.writeUInt16BE(request.on ? 0xff00 : 0, 3);
  else if (request.fc === 6) pdu.writeUInt16BE(request.value, 3);
  else if (request.fc === 15) pdu.writeUInt16BE(request.bits.length, 3);
  else if (request.fc === 16) pdu.writeUInt16BE(request.values.length, 3);
  return pdu;
}

export function exceptionResponse(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

/** A client's reading of a read-registers response: the values, an exception, or why it is not one. */
export function parseRegistersResponse(pdu: Uint8Array, fc: 3 | 4, quantity: number): { values: number[] } | { exception: number } | { malformed: string } {
  if (pdu[0] === (fc | 0x80) && pdu.length === 2) return { exception: pdu[1] };
  if (pdu[0] !== fc) return { malformed: `function ${pdu[0]} instead of ${fc}` };
  if (pdu.length !== 2 + quantity * 2 || pdu[1] !== quantity * 2) return { malformed: `${pdu.length} bytes for ${quantity} registers` };
  return { values: Array.from({ length: quantity }, (_, i) => u16(pdu, 2 + i * 2)) };
}
