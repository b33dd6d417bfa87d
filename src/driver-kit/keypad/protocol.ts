import type { PanelctlError } from '../../core/errors.js';
import type { KeypadEngine, WaitOptions } from './engine.js';
import type { KeypadScreen } from './screen.js';

/**
 * What a keypad protocol tells the shared engine. The engine reads every frame in order, keeps
 * the screen model and a history, waits for displays, masks code digits, and turns timeouts,
 * echoes and floods into typed errors; the protocol says what a frame is and how keys are sent.
 */
export type Classified<Frame> =
  /** A message from the panel or module. */
  | { kind: 'message'; frame: Frame }
  /** Noise to skip (a bad checksum); many in a row are a flood. */
  | { kind: 'noise'; trace: string }
  /** Something only a client sends came back: the line echoes. `trace` must not show its data. */
  | { kind: 'echo'; trace: string; error: PanelctlError };

export interface KeypadProtocol<Raw, Frame, Display> {
  classify(raw: Raw): Classified<Frame>;
  /** Applies a message to the screen; returns its trace line, code digits masked. */
  observe(frame: Frame, screen: KeypadScreen): string;
  /** The panel saying no (wrong code, lockout, busy, errors), as a typed error; undefined otherwise. */
  refusal(frame: Frame): PanelctlError | undefined;
  /** What the screen means. */
  read(screen: KeypadScreen): Display;
  /**
   * Sends keys the way the module takes them (acknowledged strings, key + key break, plain
   * characters). `shown` is `keys` with code digits replaced by `*`: only it may be traced.
   */
  sendKeys(engine: KeypadEngine<Raw, Frame, Display>, keys: string, shown: string, options: WaitOptions): Promise<void>;
  /** Said with a timeout while the keypad showed something unexpected. */
  layoutHint: string;
  /** What noise frames are, for the flood message ("messages with bad checksums"), and what to check. */
  noise: { what: string; hint: string };
}
