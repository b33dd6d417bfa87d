/**
 * The shared keypad engine for drivers that work a panel through a virtual keypad (DSC through
 * an IT-100 or Envisalink, Vista through an AlarmDecoder): screen model, frame history, waits for
 * a display, masked key presses, the menu guard and the one-shot credential rule. The protocol
 * specifics go behind KeypadProtocol.
 */
export { KeypadEngine, MAX_FRAMES_PER_WAIT, type KeypadOptions, type WaitOptions } from './engine.js';
export { KeypadScreen, maskDigits } from './screen.js';
export type { KeypadProtocol, Classified } from './protocol.js';
export { MenuGuard } from './menu-guard.js';
export { OneShotCredentials } from './credential.js';
