import { ProtocolError, UnreachableError } from '../../core/errors.js';
import { type FrameChannel, formatMs } from '../../transport/channel.js';
import type { KeypadProtocol } from './protocol.js';
import { KeypadScreen } from './screen.js';

export interface KeypadOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** false: Ctrl-C does not cut this wait short (leaving a menu is the way out, so it must finish). */
  useSignal?: boolean;
}

/** Frames one wait may read before the panel counts as flooding the line (a real one sends a handful). */
export const MAX_FRAMES_PER_WAIT = 1000;
/** Frames kept for looking back (`until({ since })`). */
const HISTORY = 256;

/**
 * A virtual keypad as a driver sees it: every frame read in order (none thrown away, so a display
 * change is never missed between two commands), a model of the screen, a history to look back
 * at, waits for a display, and key presses whose code digits never reach a trace.
 */
export class KeypadEngine<Raw, Frame, Display> {
  readonly screen: KeypadScreen;
  /** Counts every message read; with the history, a wait can look back at frames an earlier wait passed over. */
  frameSeq = 0;
  private readonly history: Array<{ seq: number; frame: Frame }> = [];
  /** Commands sent and acknowledged, and keys pressed (for the bench). */
  readonly counts = { commands: 0, keys: 0 };
  /** Called for every message after the screen model took it (drivers watch refusals, scrolling...). */
  onEvent?: (frame: Frame) => void;

  constructor(
    readonly channel: FrameChannel<Raw>,
    readonly protocol: KeypadProtocol<Raw, Frame, Display>,
    protected readonly options: KeypadOptions,
    screen: { width: number; lines: number },
  ) {
    this.screen = new KeypadScreen(screen.width, screen.lines);
  }

  /** Text updates so far (a wait for a newer display passes this as `since`). */
  get lcdSeq(): number {
    return this.screen.seq;
  }

  get display(): Display {
    return this.protocol.read(this.screen);
  }

  /** What the keypad shows, safe to put in a message. */
  get shown(): string {
    return this.screen.shown;
  }

  trace(direction: 'tx' | 'rx', text: string): void {
    this.options.trace?.(direction, text);
  }

  /** The next message before `deadline`; `waitMs` is the whole wait, for the timeout message. */
  private async nextFrame(deadline: number, useSignal: boolean, waitMs: number): Promise<Frame> {
    for (let noise = 0; ; noise++) {
      if (noise > MAX_FRAMES_PER_WAIT) {
        throw new ProtocolError(`the panel sent ${MAX_FRAMES_PER_WAIT} ${this.protocol.noise.what} in a row`, {
          code: 'E_FLOOD',
          hint: this.protocol.noise.hint,
        });
      }
      const timeoutMs = Math.max(1, deadline - Date.now());
      let raw: Raw;
      try {
        raw = await this.channel.next(() => true, { timeoutMs, signal: useSignal ? this.options.signal : undefined }, true);
      } catch (error) {
        // The channel only saw the last slice of the wait; say how long the panel really had.
        if (error instanceof UnreachableError && error.code === 'E_TIMEOUT') {
          throw new UnreachableError('E_TIMEOUT', `no answer from the panel within ${formatMs(waitMs)} (${this.channel.stream.description})`, {
            hint: error.hint,
            cause: error,
          });
        }
        throw error;
      }
      const classified = this.protocol.classify(raw);
      if (classified.kind === 'message') {
        this.observe(classified.frame);
        return classified.frame;
      }
      this.trace('rx', classified.trace);
      if (classified.kind === 'echo') throw classified.error;
    }
  }

  private observe(frame: Frame): void {
    this.history.push({ seq: ++this.frameSeq, frame });
    if (this.history.length > HISTORY) this.history.shift();
    this.trace('rx', this.protocol.observe(frame, this.screen));
    this.onEvent?.(frame);
  }

  /**
   * Reads frames until `pick` returns something. Frames that mean the panel said no end the wait
   * with a typed error unless `pick` takes them, or `ignore` lets them pass. With `since` (a
   * `frameSeq`), frames already read after that moment are looked at first: an answer may have
   * passed by while an earlier wait was reading.
   */
  async until<T>(pick: (frame: Frame) => T | undefined, options: WaitOptions & { ignore?: (frame: Frame) => boolean; since?: number } = {}): Promise<T> {
    if (options.since !== undefined) {
      for (const { seq, frame } of this.history) {
        if (seq <= options.since) continue;
        const picked = pick(frame);
        if (picked !== undefined) return picked;
      }
    }
    const waitMs = options.timeoutMs ?? this.options.timeoutMs;
    const deadline = Date.now() + waitMs;
    for (let read = 1; ; read++) {
      if (read > MAX_FRAMES_PER_WAIT) {
        throw new ProtocolError(`the panel sent ${MAX_FRAMES_PER_WAIT} messages without the one panelctl waits for (a flood); gave up`, {
          code: 'E_FLOOD',
          hint: 'another program or device is talking on this link, or the peer is not the panel it should be; check what is connected',
        });
      }
      const frame = await this.nextFrame(deadline, options.useSignal ?? true, waitMs);
      const picked = pick(frame);
      if (picked !== undefined) return picked;
      if (options.ignore?.(frame)) continue;
      const refusal = this.protocol.refusal(frame);
      if (refusal) throw refusal;
    }
  }

  /**
   * Waits for a display newer than `since` (an `lcdSeq`) that `pick` accepts. A timeout while the
   * keypad shows something else is a protocol error naming what it shows (digits masked).
   */
  async waitDisplay<T>(
    pick: (display: Display) => T | undefined,
    since: number,
    what: string,
    options: WaitOptions & { ignore?: (frame: Frame) => boolean } = {},
  ): Promise<T> {
    const check = () => (this.lcdSeq > since ? pick(this.display) : undefined);
    const now = check();
    if (now !== undefined) return now;
    try {
      return await this.until(check, options);
    } catch (error) {
      if (error instanceof UnreachableError && error.code === 'E_TIMEOUT' && this.lcdSeq > since) {
        throw new ProtocolError(`the keypad shows "${this.shown}" instead of ${what}`, { hint: this.protocol.layoutHint });
      }
      throw error;
    }
  }

  /**
   * Presses keys. `secret` marks with `*` the positions that are code digits: they are masked in
   * every trace (the module's own way of sending keys is the protocol's).
   */
  async press(keys: string, secret = '', options: WaitOptions = {}): Promise<void> {
    const shown = [...keys].map((k, i) => (secret[i] === '*' ? '*' : k)).join('');
    this.counts.keys += keys.length;
    await this.protocol.sendKeys(this, keys, shown, options);
  }
}
