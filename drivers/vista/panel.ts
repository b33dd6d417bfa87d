import { isFor, type KeypadMessage } from './messages.js';
import { displayShown, showsTest } from './screens.js';

/**
 * The keypad as the driver knows it: the last keypad message for our keypad address (display,
 * status bits), and a bounded history of what arrived, so a wait can look back at messages that
 * came while keys were still being sent. Pure: fed messages, asked questions.
 */

/** Messages remembered for look-back; a VISTA sends a handful per second at most. */
export const HISTORY = 64;

export interface Seen {
  seq: number;
  message: KeypadMessage;
}

export class KeypadModel {
  /** Counts messages for our keypad; a wait can insist on one newer than some moment. */
  seq = 0;
  last?: KeypadMessage;
  private readonly history: Seen[] = [];
  /** Messages for other keypads (other partitions), ignored. */
  otherKeypads = 0;

  constructor(readonly address: number) {}

  /** Takes one keypad message; false when it is for another keypad (another partition). */
  update(message: KeypadMessage): boolean {
    if (!isFor(message, this.address)) {
      this.otherKeypads++;
      return false;
    }
    this.last = message;
    this.history.push({ seq: ++this.seq, message });
    if (this.history.length > HISTORY) this.history.shift();
    return true;
  }

  /** Messages newer than `since`, oldest first. */
  since(since: number): Seen[] {
    return this.history.filter((h) => h.seq > since);
  }

  get text(): string {
    return this.last?.text ?? '';
  }

  /** The display, safe to put in a message. */
  get shown(): string {
    return this.last ? displayShown(this.last.text) : '(nothing yet)';
  }

  get armed(): boolean {
    return !!this.last && (this.last.bits.armedAway || this.last.bits.armedHome);
  }

  get programming(): boolean {
    return !!this.last?.bits.programming;
  }

  get testActive(): boolean {
    return !!this.last && showsTest(this.last.text);
  }
}

/**
 * The panel's "yes" to a code command: exactly one beep (a chime is three), in a message after the
 * last key, while the panel is neither armed, in programming mode, nor in walk test (whose
 * reminder beeps are single too). README: "What we could not find".
 */
export function isAck(message: KeypadMessage): boolean {
  return message.beeps === 1 && !message.bits.armedAway && !message.bits.armedHome && !message.bits.programming && !showsTest(message.text);
}
