import type { FrameDecoder } from '../../src/driver-kit/index.js';

/**
 * INTEGRA integration protocol framing (SATEL "INT-RS / ETHM-1" description, page 2):
 *   FE FE cmd d1..dn crc.hi crc.lo FE 0D
 * Any FE inside the frame is sent as FE F0. Pure: bytes in, frames out, no I/O.
 */

export const SYNC = 0xfe;
const STUFFED = 0xf0;
const END = 0x0d;
/** No INTEGRA frame comes near this; anything longer is garbage and is dropped. */
export const MAX_FRAME = 256;

/** CRC of page 2 / Appendix 4 (page 26): start 0x147A; per byte rotate left, xor 0xFFFF, add high byte and b. */
export function crc(bytes: Uint8Array): number {
  let value = 0x147a;
  for (const b of bytes) {
    value = ((value << 1) | (value >>> 15)) & 0xffff;
    value ^= 0xffff;
    value = (value + (value >>> 8) + b) & 0xffff;
  }
  return value;
}

export function encodeFrame(cmd: number, data: Uint8Array | number[] = []): Buffer {
  const payload = Uint8Array.from([cmd, ...data]);
  const sum = crc(payload);
  return wrapFrame([...payload, sum >>> 8, sum & 0xff]);
}

/**
 * Sync, stuffing and end marker around cmd + data + crc, exactly as given. encodeFrame is the
 * normal way in; the simulator uses this directly to send a frame whose CRC it spoiled on purpose.
 */
export function wrapFrame(body: Uint8Array | number[]): Buffer {
  const out = [SYNC, SYNC];
  for (const b of body) {
    out.push(b);
    if (b === SYNC) out.push(STUFFED);
  }
  out.push(SYNC, END);
  return Buffer.from(out);
}

export type IntegraFrame =
  | { kind: 'frame'; cmd: number; data: Buffer }
  /** The text an ETHM-1 sends a second client before closing ("Busy!"). */
  | { kind: 'busy'; text: string };

type State = 'hunt' | 'sync1' | 'cmd' | 'body' | 'escape';

/**
 * Incremental decoder following the page-2 rules: FE FE synchronises (also in mid-frame),
 * FE F0 is a literal FE, FE 0D ends the frame, FE + anything else counts as FE FE.
 * Frames with a bad CRC are dropped silently, as the module does, but counted.
 * It never throws and never holds more than MAX_FRAME bytes.
 */
export class IntegraDecoder implements FrameDecoder<IntegraFrame> {
  private state: State = 'hunt';
  // Stryker disable next-line ArrayDeclaration: never read before the command byte replaces it
  private body: number[] = [];
  private text = '';
  /** Frames dropped for a bad CRC since this decoder was made. */
  badCrc = 0;
  /** Frames dropped for being too short, too long, or cut off by a new sync. */
  malformed = 0;
  /** Whether a "Busy" greeting was seen on this stream. */
  busySeen = false;

  /** Bytes held for the frame being collected (never more than MAX_FRAME). */
  get held(): number {
    return this.body.length;
  }

  /** Every frame dropped so far, whatever the reason (for "N corrupted frames dropped" messages). */
  get dropped(): number {
    return this.badCrc + this.malformed;
  }

  push(chunk: Uint8Array): IntegraFrame[] {
    const out: IntegraFrame[] = [];
    for (const b of chunk) this.step(b, out);
    return out;
  }

  private step(b: number, out: IntegraFrame[]): void {
    switch (this.state) {
      case 'hunt':
        if (b === SYNC) {
          this.text = '';
          this.state = 'sync1';
        } else {
          this.collectText(b, out);
        }
        return;
      case 'sync1':
        // Between frames a lone FE is noise: a frame starts only with FE FE.
        this.state = b === SYNC ? 'cmd' : 'hunt';
        return;
      case 'cmd':
        // Waiting for cmd, FE changes nothing (page 2, rule 2): cmd can never be FE.
        if (b !== SYNC) {
          this.body = [b];
          this.state = 'body';
        }
        return;
      case 'body':
        if (b === SYNC) this.state = 'escape';
        else this.add(b);
        return;
      case 'escape':
        if (b === STUFFED) {
          this.add(SYNC);
          this.state = 'body';
        } else if (b === END) {
          this.finish(out);
          this.state = 'hunt';
        } else {
          // FE FE, or FE + other: a new synchronisation; whatever was collected is dropped.
          // Stryker disable next-line ConditionalExpression: the escape state is reached only with the command byte held
          if (this.body.length) this.malformed++;
          // Stryker disable next-line ArrayDeclaration: frees the dropped bytes; the next command byte replaces them anyway
          this.body = [];
          this.state = 'cmd';
        }
        return;
    }
  }

  private add(b: number): void {
    this.body.push(b);
    if (this.body.length > MAX_FRAME) {
      this.malformed++;
      // Stryker disable next-line ArrayDeclaration: frees the dropped bytes; the next command byte replaces them anyway
      this.body = [];
      this.state = 'hunt';
    }
  }

  private finish(out: IntegraFrame[]): void {
    const body = this.body;
    // Stryker disable next-line ArrayDeclaration: frees the frame's bytes; the next command byte replaces them anyway
    this.body = [];
    if (body.length < 3) {
      this.malformed++;
      return;
    }
    const payload = Uint8Array.from(body.slice(0, -2));
    const received = (body[body.length - 2] << 8) | body[body.length - 1];
    if (crc(payload) !== received) {
      this.badCrc++;
      return;
    }
    out.push({ kind: 'frame', cmd: payload[0], data: Buffer.from(payload.subarray(1)) });
  }

  private collectText(b: number, out: IntegraFrame[]): void {
    if (b < 0x20 || b > 0x7e) {
      this.text = '';
      return;
    }
    this.text = (this.text + String.fromCharCode(b)).slice(-16);
    if (this.text.startsWith('Busy')) {
      this.busySeen = true;
      out.push({ kind: 'busy', text: this.text });
      this.text = '';
    }
  }
}
