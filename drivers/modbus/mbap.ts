import type { FrameDecoder } from '../../src/driver-kit/index.js';

/**
 * Modbus TCP framing ("MODBUS Messaging on TCP/IP Implementation Guide" V1.0b, 3.1.3): a 7-byte
 * MBAP header (transaction id, protocol id 0, length of what follows, unit id) and the PDU.
 * There is no CRC: TCP carries the bytes intact. Pure: bytes in, frames out.
 */

export const MBAP_HEADER = 7;
/** Unit id + the largest PDU (253 bytes). */
const MAX_LENGTH_FIELD = 254;
export const MAX_MBAP_FRAME = 6 + MAX_LENGTH_FIELD;

export interface MbapFrame {
  transactionId: number;
  unit: number;
  pdu: Buffer;
}

export function encodeMbap(transactionId: number, unit: number, pdu: Uint8Array): Buffer {
  const frame = Buffer.alloc(MBAP_HEADER + pdu.length);
  frame.writeUInt16BE(transactionId & 0xffff, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unit;
  frame.set(pdu, MBAP_HEADER);
  return frame;
}

/**
 * Incremental MBAP decoder. A header whose protocol id is not 0, or whose length cannot hold a
 * unit id and a function code or exceeds the largest PDU, is not a header: the decoder steps one
 * byte on and looks again, so garbage costs bytes, never a crash. A partial frame waits for the
 * rest or for idle(). Never throws; never holds more than MAX_MBAP_FRAME bytes.
 */
export class MbapDecoder implements FrameDecoder<MbapFrame> {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes thrown away because they did not form a header. */
  skipped = 0;

  get held(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): MbapFrame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    const out: MbapFrame[] = [];
    while (this.buffer.length >= MBAP_HEADER) {
      const protocol = this.buffer.readUInt16BE(2);
      const length = this.buffer.readUInt16BE(4);
      if (protocol !== 0 || length < 2 || length > MAX_LENGTH_FIELD) {
        this.drop(1);
        continue;
      }
      const total = 6 + length;
      if (this.buffer.length < total) break;
      out.push({ transactionId: this.buffer.readUInt16BE(0), unit: this.buffer[6], pdu: Buffer.from(this.buffer.subarray(MBAP_HEADER, total)) });
      this.buffer = this.buffer.subarray(total);
    }
    // A valid header never needs more than one frame's worth of bytes held.
    // Stryker disable next-line all: the loop above already leaves at most one partial frame (< MAX_MBAP_FRAME); kept as a guard
    if (this.buffer.length > MAX_MBAP_FRAME) this.drop(this.buffer.length - MAX_MBAP_FRAME);
    return out;
  }

  /** Nothing arrived for a while: a partial frame will not be completed. */
  idle(): MbapFrame[] {
    // Stryker disable next-line ConditionalExpression: dropping nothing changes nothing; the test only skips a call
    if (this.buffer.length) this.drop(this.buffer.length);
    return [];
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  private drop(count: number): void {
    this.skipped += count;
    this.buffer = this.buffer.subarray(count);
  }
}
