import { NotSupportedError, PanelRefusedError, ProtocolError, UnreachableError, WrongCredentialError, type PanelctlError } from '../../src/driver-kit/index.js';
import { FrameChannel, formatMs } from '../../src/driver-kit/index.js';
import { DscDecoder, encodeMessage, type DscFrame, type DscMessage } from './codec.js';
import { Cmd, LED_NUMBERS, SYSTEM_ERRORS, decodeLcd, splitKeys } from './messages.js';
import { pad, readDisplay, type Display } from './screens.js';

/**
 * The virtual keypad as the driver sees it: commands and their 500 acknowledgements, keys (071
 * strings of at most 6 on an Envisalink, 070 key + key break on an IT-100), and a model of the LCD
 * and LEDs built from every 901/510/903 that arrives. Every frame is read in order (none is thrown
 * away), so a display change is never missed between two commands.
 */

export type Module = 'envisalink' | 'it100';

export interface KeypadOptions {
  module: Module;
  timeoutMs: number;
  signal?: AbortSignal;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

/** Hides runs of three or more digits (a code on a real LCD) in text meant for people. */
export function maskDigits(text: string): string {
  return text.replace(/\d{3,}/g, (run) => '*'.repeat(run.length));
}

/** Frames one wait may read before the panel counts as flooding the line (a real one sends a handful). */
export const MAX_FRAMES_PER_WAIT = 1000;

/** Commands 000..499 go from a client to the module; the module and panel send 500 and up (IT-100 guide, TPI). */
export function isClientCommand(command: string): boolean {
  return Number(command) < 500;
}

const ECHO_HINT =
  'the link sends back what panelctl sends: a loopback plug, a serial-to-TCP converter or modem with local echo on, or a port that is not the IT-100/Envisalink. Check the wiring and the converter settings';

export class Keypad {
  readonly lines: [string, string] = [pad(''), pad('')];
  /** Counts 901 updates, so a wait can insist on a display newer than some moment. */
  lcdSeq = 0;
  leds = 0;
  /** Counts every frame read; with `history`, a wait can look back at frames an earlier wait passed over. */
  frameSeq = 0;
  private readonly history: Array<{ seq: number; frame: DscMessage }> = [];
  /** Frames sent and acknowledged, and keys pressed (for the bench). */
  readonly counts = { commands: 0, keys: 0 };
  /** Called for frames the keypad model has no use for but a caller might (670, 658...). */
  onEvent?: (frame: DscMessage) => void;

  constructor(
    readonly channel: FrameChannel<DscFrame>,
    readonly decoder: DscDecoder,
    private readonly options: KeypadOptions,
  ) {}

  get display(): Display {
    return readDisplay(this.lines);
  }

  /** What the keypad shows, safe to put in a message. */
  get shown(): string {
    return maskDigits(`${this.lines[0].trim()} / ${this.lines[1].trim()}`);
  }

  /** The next frame before `deadline`; `waitMs` is the whole wait, for the timeout message. */
  private async nextFrame(deadline: number, useSignal: boolean, waitMs: number): Promise<DscMessage> {
    for (let corrupted = 0; ; corrupted++) {
      if (corrupted > MAX_FRAMES_PER_WAIT) {
        throw new ProtocolError(`the panel sent ${MAX_FRAMES_PER_WAIT} messages with bad checksums in a row`, {
          code: 'E_FLOOD',
          hint: 'the line is noisy or the baud rate is wrong',
        });
      }
      const timeoutMs = Math.max(1, deadline - Date.now());
      let frame: DscFrame;
      try {
        frame = await this.channel.next(() => true, { timeoutMs, signal: useSignal ? this.options.signal : undefined }, true);
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
      if (isClientCommand(frame.command)) {
        // Our own command (a 200 with the code, 005 with the password, keys) coming back: never show its data.
        this.options.trace?.('rx', `${frame.command} [data not shown: a client command came back]`);
        throw new ProtocolError(`command ${frame.command}, which only a client sends, came back from the link: the line echoes`, {
          code: 'E_ECHO',
          hint: ECHO_HINT,
        });
      }
      if (frame.kind === 'message') {
        this.observe(frame);
        return frame;
      }
      this.options.trace?.('rx', `${frame.command} (bad checksum, ignored)`);
    }
  }

  private observe(frame: DscMessage): void {
    this.history.push({ seq: ++this.frameSeq, frame });
    if (this.history.length > 256) this.history.shift();
    const lcd = frame.command === Cmd.lcdUpdate ? decodeLcd(frame.data) : undefined;
    this.options.trace?.('rx', `${frame.command} ${lcd ? `${lcd.line}${lcd.column} "${maskDigits(lcd.text)}"` : frame.data}`.trim());
    if (lcd) {
      const row = lcd.line;
      const text = this.lines[row].padEnd(lcd.column);
      this.lines[row] = pad(text.slice(0, lcd.column) + lcd.text + text.slice(lcd.column + lcd.text.length));
      this.lcdSeq++;
    } else if (frame.command === Cmd.ledState && /^[0-9A-F]{2}$/.test(frame.data)) {
      this.leds = parseInt(frame.data, 16);
    } else if (frame.command === Cmd.ledStatus && /^[1-9][0-2]$/.test(frame.data)) {
      const bit = LED_NUMBERS[Number(frame.data[0])] ?? 0;
      this.leds = frame.data[1] === '0' ? this.leds & ~bit : this.leds | bit;
    }
    this.onEvent?.(frame);
  }

  /**
   * Reads frames until `pick` returns something. Frames that mean the panel said no (670, 658, 673,
   * 501, 502) end the wait with a typed error unless `pick` takes them, or `ignore` lists them.
   */
  async until<T>(
    pick: (frame: DscMessage) => T | undefined,
    options: { timeoutMs?: number; useSignal?: boolean; ignore?: string[]; since?: number } = {},
  ): Promise<T> {
    // An IT-100 answers a key after acknowledging it, so the answer may already have passed by
    // while the key break was being acknowledged: look back first.
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
      if (options.ignore?.includes(frame.command)) continue;
      const refusal = refusalOf(frame);
      if (refusal) throw refusal;
    }
  }

  /** Waits for a display newer than `since` that `pick` accepts. */
  async waitDisplay<T>(
    pick: (display: Display) => T | undefined,
    since: number,
    what: string,
    options: { timeoutMs?: number; useSignal?: boolean; ignore?: string[] } = {},
  ): Promise<T> {
    const check = () => (this.lcdSeq > since ? pick(this.display) : undefined);
    const now = check();
    if (now !== undefined) return now;
    try {
      return await this.until(check, options);
    } catch (error) {
      if (error instanceof UnreachableError && error.code === 'E_TIMEOUT' && this.lcdSeq > since) {
        throw new ProtocolError(`the keypad shows "${this.shown}" instead of ${what}`, {
          hint: 'the panel may use another keypad language or menu layout (see the dsc driver README)',
        });
      }
      throw error;
    }
  }

  async write(command: string, data: string, traceData = data): Promise<void> {
    this.options.trace?.('tx', `${command} ${traceData}`.trim());
    await this.channel.send(encodeMessage(command, data));
  }

  /** Sends one command and waits for its 500 acknowledgement. */
  async command(command: string, data = '', traceData = data, options: { useSignal?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await this.write(command, data, traceData);
    this.counts.commands++;
    await this.until((f) => (f.command === Cmd.ack && f.data === command ? true : undefined), options);
  }

  /**
   * Presses keys. `secret` marks keys that are code digits: they are masked in the trace. On an
   * Envisalink the keys go in 071 strings of at most 6, each acknowledged before the next; on an
   * IT-100 each key is a 070 followed by a 070 key break.
   */
  async press(keys: string, secret = '', options: { useSignal?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const shown = [...keys].map((k, i) => (secret[i] === '*' ? '*' : k)).join('');
    this.counts.keys += keys.length;
    if (this.options.module === 'envisalink') {
      const parts = splitKeys(keys);
      const shownParts = splitKeys(shown);
      for (let i = 0; i < parts.length; i++) await this.command(Cmd.keyString, `1${parts[i]}`, `1${shownParts[i]}`, options);
      return;
    }
    for (let i = 0; i < keys.length; i++) {
      await this.command(Cmd.keyPressed, keys[i], shown[i], options);
      await this.command(Cmd.keyPressed, '^', '^', options);
    }
  }
}

/** The frames that mean "no", as typed errors. */
export function refusalOf(frame: DscMessage): PanelctlError | undefined {
  switch (frame.command) {
    case Cmd.invalidAccessCode:
      return new WrongCredentialError('the panel refused the code panelctl entered for it (invalid access code)', { data: { panelMessage: '670' } });
    case Cmd.keypadLockout:
      return new PanelRefusedError('E_LOCKOUT', 'the keypad is locked out after too many wrong codes; nothing was changed', {
        hint: 'wait for the lockout to end (the panel sets how long, often several minutes), then check the configured code before trying again',
        data: { panelMessage: '658' },
      });
    case Cmd.partitionBusy:
      return new UnreachableError('E_BUSY', 'the panel is busy: partition 1 is in use (someone at a keypad, or in installer programming)', {
        hint: 'try again when nobody is using a keypad',
        data: { panelMessage: '673' },
      });
    case Cmd.commandError:
      return new ProtocolError('the module says a command arrived with a bad checksum (501)', { hint: 'the line is noisy or the baud rate is wrong' });
    case Cmd.systemError:
      return systemError(frame.data);
    default:
      return undefined;
  }
}

function systemError(code: string): PanelctlError {
  const text = SYSTEM_ERRORS[code] ?? `error ${code}`;
  const data = { panelMessage: `502 ${code}` };
  if (code === '028') {
    return new NotSupportedError('the IT-100 virtual keypad is disabled', {
      data,
      hint: 'the IT-100 runs its virtual keypad only when enabled (command 058); some firmware needs a baud rate above 9600 for it',
    });
  }
  if (code === '016') return new PanelRefusedError('E_LOCKOUT', 'the keypad is locked out after too many wrong codes', { data });
  if (['015', '017', '018'].includes(code)) return new UnreachableError('E_BUSY', `the panel is busy: ${text}`, { data });
  return new ProtocolError(`the module reported a system error: ${text} (502 ${code})`, { data });
}

export function newKeypad(stream: ConstructorParameters<typeof FrameChannel<DscFrame>>[0], options: KeypadOptions): Keypad {
  const decoder = new DscDecoder();
  return new Keypad(new FrameChannel(stream, decoder), decoder, options);
}
