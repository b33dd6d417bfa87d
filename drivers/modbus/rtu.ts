import type { FrameDecoder } from '../../src/driver-kit/index.js';

/**
 * Modbus RTU framing ("MODBUS over Serial Line" V1.02, 2.5.1): unit, PDU, CRC-16 (low byte
 * first). RTU marks the end of a frame with 3.5 characters of silence; a decoder that sees only
 * bytes finds ends by the length each function code implies, checks the CRC itself, and treats
 * `idle()` (the caller's silence timer) as the t3.5 boundary. Pure: bytes in, frames out.
 */

/** The largest RTU frame: unit + 253-byte PDU + CRC (spec 2.5.1). */
export const MAX_RTU_FRAME = 256;
const MIN_FRAME = 4; // unit, function, CRC

export interface RtuFrame {
  unit: number;
  /** Function code and data, without unit and CRC. */
  pdu: Buffer;
}

/** CRC-16/MODBUS: start 0xFFFF, reflected polynomial 0xA001 (spec 6.2.2). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function encodeRtu(unit: number, pdu: Uint8Array): Buffer {
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unit;
  frame.set(pdu, 1);
  frame.writeUInt16LE(crc16(frame, 0, pdu.length + 1), pdu.length + 1);
  return frame;
}

/** Length of a whole frame starting at `at`: a number, 'more' (need more bytes), or 'unknown'. */
type Length = number | 'more' | 'unknown';

/** Request lengths by function code (Modbus Application Protocol V1.1b3, section 6). */
export function requestLength(buf: Uint8Array, at: number, available: number): Length {
  if (available < 2) return 'more';
  switch (buf[at + 1]) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 8:
      return 8;
    case 7:
    case 11:
    case 12:
    case 17:
      return 4;
    case 15:
    case 16: {
      if (available < 7) return 'more';
      const count = buf[at + 6];
      return count > 246 ? 'unknown' : 9 + count;
    }
    case 22:
      return 10;
    case 23: {
      if (available < 11) return 'more';
      const count = buf[at + 10];
      return count > 242 ? 'unknown' : 13 + count;
    }
    case 43:
      return 7; // MEI type, read-device-id code, object id
    default:
      return 'unknown';
  }
}

/** Response lengths by function code; an exception (code | 0x80) is always 5 bytes. */
export function responseLength(buf: Uint8Array, at: number, available: number): Length {
  if (available < 2) return 'more';
  const fc = buf[at + 1];
  if (fc & 0x80) return (fc & 0x7f) > 0 ? 5 : 'unknown';
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 12:
    case 17:
    case 23: {
      if (available < 3) return 'more';
      const count = buf[at + 2];
      if (count > 250 || ((fc === 3 || fc === 4 || fc === 23) && count % 2)) return 'unknown';
      return 5 + count;
    }
    case 5:
    case 6:
    case 8:
    case 11:
    case 15:
    case 16:
      return 8;
    case 7:
      return 5;
    case 22:
      return 10;
    default:
      return 'unknown'; // 43 and anything else: only silence (idle) can end it
  }
}

function crcOk(buf: Uint8Array, at: number, length: number): boolean {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: every caller passes at least MIN_FRAME bytes; kept as a guard
  if (length < MIN_FRAME) return false;
  const received = buf[at + length - 2] | (buf[at + length - 1] << 8);
  return crc16(buf, at, at + length - 2) === received;
}

/**
 * Incremental RTU decoder for requests (a device's view) or responses (a client's view).
 * A frame whose CRC fails costs one byte and the search goes on from the next (resync); a
 * partial frame waits for more bytes, or for idle(), which discards it and rescans what is left.
 * It never throws and never holds more than MAX_RTU_FRAME bytes.
 */
export class RtuDecoder implements FrameDecoder<RtuFrame> {
  private buffer: Buffer = Buffer.alloc(0);
  /** Frames that looked complete but failed their CRC. */
  badCrc = 0;
  /** Bytes thrown away while searching for a frame (noise, cut-off frames). */
  skipped = 0;

  constructor(private readonly role: 'request' | 'response') {}

  get held(): number {
    return this.buffer.length;
  }

  private lengthAt(at: number): Length {
    // Stryker disable next-line ArithmeticOperator: overstating what is available reads past the end, which gives a NaN length that never fits
    const available = this.buffer.length - at;
    return this.role === 'request' ? requestLength(this.buffer, at, available) : responseLength(this.buffer, at, available);
  }

  push(chunk: Uint8Array): RtuFrame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    // Stryker disable next-line EqualityOperator: at exactly MAX_RTU_FRAME the drop would be of zero bytes
    if (this.buffer.length > MAX_RTU_FRAME) {
      // No frame is longer than this, so older bytes can never become part of one.
      this.drop(this.buffer.length - MAX_RTU_FRAME);
    }
    return this.scan(false);
  }

  /** The line went quiet for 3.5 characters: whatever is partial is not a frame. */
  idle(): RtuFrame[] {
    const out = this.scan(true);
    // Stryker disable next-line ConditionalExpression: dropping nothing changes nothing; the test only skips a call
    if (this.buffer.length) this.drop(this.buffer.length);
    return out;
  }

  /** Forget everything held (a client does this before sending a new request). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  private drop(count: number): void {
    this.skipped += count;
    this.buffer = this.buffer.subarray(count);
  }

  private emit(length: number, out: RtuFrame[]): void {
    out.push({ unit: this.buffer[0], pdu: Buffer.from(this.buffer.subarray(1, length - 2)) });
    this.buffer = this.buffer.subarray(length);
  }

  private scan(silence: boolean, out: RtuFrame[] = []): RtuFrame[] {
    while (this.buffer.length >= MIN_FRAME) {
      const length = this.lengthAt(0);
      if (typeof length === 'number') {
        if (length > this.buffer.length) {
          if (!silence) break; // wait for the rest
          this.drop(1); // cut off by silence: not a frame; look again from the next byte
          continue;
        }
        if (crcOk(this.buffer, 0, length)) {
          this.emit(length, out);
        } else {
          this.badCrc++;
          this.drop(1);
        }
        continue;
      }
      if (length === 'more') break;
      // A function code whose length we cannot tell: after silence the whole rest may be one
      // frame (a device answers an unknown function with exception 1); otherwise it is noise.
      if (silence && crcOk(this.buffer, 0, this.buffer.length)) {
        this.emit(this.buffer.length, out);
        continue;
      }
      if (!silence && !this.laterFrameStart()) break;
      this.drop(1);
    }
    return out;
  }

  /** Whether a complete, CRC-valid frame of known length starts after byte 0 (then byte 0 is noise). */
  private laterFrameStart(): boolean {
    // Stryker disable next-line ArithmeticOperator: running past the end only finds lengths of 'more', which are skipped
    for (let at = 1; at + MIN_FRAME <= this.buffer.length; at++) {
      const length = this.lengthAt(at);
      // Stryker disable next-line ConditionalExpression,ArithmeticOperator,LogicalOperator: without the type or end test, crcOk reads a length that is not a number, or past the end, as undefined bytes against a CRC of 0: false in practice
      if (typeof length === 'number' && at + length <= this.buffer.length && crcOk(this.buffer, at, length)) return true;
    }
    return false;
  }
}
