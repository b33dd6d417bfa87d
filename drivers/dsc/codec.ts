import type { FrameDecoder } from '../../src/driver-kit/index.js';

/**
 * IT-100 / Envisalink TPI framing: ASCII `CCC` (3-digit command) + data + `SS` (checksum) + CR LF.
 * The checksum is the sum of the command and data bytes, low 8 bits, as two uppercase hex digits:
 * `6543D2\r\n` is command 654 with data "3"; the poll `000` is `00090\r\n`. Pure: no I/O.
 */

/** The longest line either side sends (an LCD update is 3 + 37 + 2); anything longer is garbage. */
export const MAX_LINE = 96;

export interface DscMessage {
  command: string;
  data: string;
}

export type DscFrame =
  | ({ kind: 'message' } & DscMessage)
  /** Well-formed, but the checksum does not match: the module answers these with 501. */
  | ({ kind: 'bad-checksum' } & DscMessage);

export function checksum(text: string): string {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum += text.charCodeAt(i);
  return (sum & 0xff).toString(16).toUpperCase().padStart(2, '0');
}

export function encodeMessage(command: string, data = ''): Buffer {
  if (!/^\d{3}$/.test(command)) throw new Error(`a command is three digits (got "${command}")`);
  const body = command + data;
  return Buffer.from(`${body}${checksum(body)}\r\n`, 'latin1');
}

/** The same line with a checksum spoiled on purpose (simulator fault injection, tests). */
export function encodeCorrupted(command: string, data = ''): Buffer {
  const body = command + data;
  // Stryker disable next-line ArithmeticOperator: any checksum but the right one will do; minus spoils it as well as plus
  const wrong = ((parseInt(checksum(body), 16) + 0x11) & 0xff).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.from(`${body}${wrong}\r\n`, 'latin1');
}

/** Parses one line without its terminator; undefined if it is not a message at all. */
export function parseLine(line: string): DscFrame | undefined {
  // The TPI can prefix a timestamp ("HH:MM:SS ", command 055): it is not part of the checksum.
  const text = /^\d\d:\d\d:\d\d /.test(line) ? line.slice(9) : line;
  // Stryker disable next-line ConditionalExpression: the pattern needs five characters too; the length test only saves a regex run
  if (text.length < 5 || !/^\d{3}[\x20-\x7e]*[0-9A-F]{2}$/.test(text)) return undefined;
  const body = text.slice(0, -2);
  const frame = { command: body.slice(0, 3), data: body.slice(3) };
  return checksum(body) === text.slice(-2) ? { kind: 'message', ...frame } : { kind: 'bad-checksum', ...frame };
}

/**
 * Incremental decoder. CR or LF ends a line (so a lone CR or LF resynchronises); a line that is
 * not a message, or longer than MAX_LINE, is dropped and counted. Never throws.
 */
export class DscDecoder implements FrameDecoder<DscFrame> {
  private line: number[] = [];
  private overlong = false;
  /** Lines dropped for not being messages (garbage, non-ASCII, too short or too long). */
  malformed = 0;
  /** Messages whose checksum did not match (returned as 'bad-checksum' frames). */
  badChecksum = 0;

  /** Bytes held while waiting for the end of a line (never more than MAX_LINE). */
  get held(): number {
    return this.line.length;
  }

  push(chunk: Uint8Array): DscFrame[] {
    const out: DscFrame[] = [];
    for (const b of chunk) {
      if (b === 0x0d || b === 0x0a) {
        this.finish(out);
        continue;
      }
      if (this.overlong) continue;
      if (this.line.length >= MAX_LINE) {
        this.overlong = true;
        this.line = [];
        continue;
      }
      this.line.push(b);
    }
    return out;
  }

  private finish(out: DscFrame[]): void {
    if (this.overlong) {
      this.malformed++;
      this.overlong = false;
      return;
    }
    if (!this.line.length) return; // the LF after a CR, or a blank line
    const text = String.fromCharCode(...this.line);
    this.line = [];
    const frame = parseLine(text);
    if (!frame) this.malformed++;
    else {
      if (frame.kind === 'bad-checksum') this.badChecksum++;
      out.push(frame);
    }
  }
}
