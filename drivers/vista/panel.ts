import type { KeypadMessage } from './messages.js';
import { showsTest } from './screens.js';

/**
 * The panel's "yes" to a code command: exactly one beep (a chime is three), in a message after the
 * last key, while the panel is neither armed, in programming mode, nor in walk test (whose
 * reminder beeps are single too). README: "What we could not find".
 */
export function isAck(message: KeypadMessage): boolean {
  return message.beeps === 1 && !message.bits.armedAway && !message.bits.armedHome && !message.bits.programming && !showsTest(message.text);
}
