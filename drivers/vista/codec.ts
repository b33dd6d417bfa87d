import type { FrameDecoder } from '../../src/driver-kit/index.js';
import { type Ad2Line, parseLine } from './messages.js';

/**
 * AlarmDecoder framing: lines of printable ASCII ended by CR, LF or both (README: the message
 * stream). Pure: no I/O. The decoder holds at most one line of MAX_LINE bytes whatever arrives.
 *
 * Every AlarmDecoder line starts with `[` (a keypad message) or `!` (everything else). A line that
 * starts with anything else is not the AlarmDecoder speaking: a key (0-9 * #) or a device command
 * (V, C, K, L, =) at the start of a line is what a client sends, so it is reported at once as a
 * `client` frame (an echoing link), without its text, which may hold code digits.
 */

/** The AlarmDecoder's own parser keeps 120 characters; real lines are at most ~94. */
export const MAX_LINE = 120;

export type Ad2Frame =
  | Ad2Line
  /** A line that starts the way only a client's keys or commands do: the link echoes what we send. */
  | { kind: 'client' }
  /** A line that is not an AlarmDecoder line; `shown` is its start with every digit masked. */
  | { kind: 'malformed'; reason: string; shown: string };

const CLIENT_FIRST = new Set([...'0123456789*#VCKL='].map((c) => c.charCodeAt(0)));
const LINE_START = new Set(['['.charCodeAt(0), '!'.charCodeAt(0)]);

/** What may be shown of a line that did not parse: its start, every digit masked (it may be an echoed code). */
export function showLine(text: string): string {
  const head = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return head.replace(/[0-9]/g, '*');
}

export class Ad2Decoder implements FrameDecoder<Ad2Frame> {
  private line: number[] = [];
  /** Skipping to the end of a line already reported (client, overlong, bad byte). */
  private skipping = false;
  /** Until the first line end, the stream may have started mid-line: that first line is dropped if it does not parse. */
  private synced = false;
  /** First lines dropped because the connection started in the middle of them. */
  partial = 0;
  /** Lines reported as malformed or client (each ends the conversation in the driver). */
  rejected = 0;

  /** Bytes held while waiting for a line end (never more than MAX_LINE). */
  get held(): number {
    return this.line.length;
  }

  push(chunk: Uint8Array): Ad2Frame[] {
    const out: Ad2Frame[] = [];
    for (const b of chunk) {
      if (b === 0x0d || b === 0x0a) {
        this.endLine(out);
        continue;
      }
      if (this.skipping) continue;
      if (this.synced && this.line.length === 0 && !LINE_START.has(b)) {
        this.reject(out, CLIENT_FIRST.has(b) ? { kind: 'client' } : this.malformed('a line must start with [ or !', [b]));
        continue;
      }
      if (b < 0x20 || b > 0x7e) {
        if (!this.synced) this.dropPartial();
        else this.reject(out, this.malformed(`byte 0x${b.toString(16).padStart(2, '0')} is not printable ASCII`, this.line));
        continue;
      }
      if (this.line.length >= MAX_LINE) {
        if (!this.synced) this.dropPartial();
        else this.reject(out, this.malformed(`the line is longer than ${MAX_LINE} characters`, this.line));
        continue;
      }
      this.line.push(b);
    }
    return out;
  }

  private malformed(reason: string, bytes: number[]): Ad2Frame {
    return { kind: 'malformed', reason, shown: showLine(String.fromCharCode(...bytes)) };
  }

  /** Reports a bad line; `midLine`: the rest of it, up to the next line end, is skipped. */
  private reject(out: Ad2Frame[], frame: Ad2Frame, midLine = true): void {
    this.rejected++;
    out.push(frame);
    this.line = [];
    this.skipping = midLine;
  }

  private dropPartial(): void {
    this.partial++;
    this.line = [];
    this.skipping = true;
  }

  private endLine(out: Ad2Frame[]): void {
    const wasSkipping = this.skipping;
    this.skipping = false;
    const bytes = this.line;
    this.line = [];
    // Stryker disable next-line ConditionalExpression,BlockStatement: nothing is held while skipping, so the empty-line branch below does the same
    if (wasSkipping) {
      this.synced = true;
      return;
    }
    if (!bytes.length) {
      this.synced = true; // the LF after a CR, or a blank line: either way the next byte starts a line
      return;
    }
    const text = String.fromCharCode(...bytes);
    const parsed = parseLine(text);
    if (!this.synced) {
      this.synced = true;
      if (parsed) out.push(parsed);
      // Our own `V` coming straight back is an echo even as the very first line.
      else if (text === 'V' || text === 'C') this.reject(out, { kind: 'client' }, false);
      else this.partial++;
      return;
    }
    if (parsed) out.push(parsed);
    else this.reject(out, this.malformed('not an AlarmDecoder line', bytes), false);
  }
}
