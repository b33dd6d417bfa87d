import type { KeypadProtocol, WaitOptions } from '../../src/driver-kit/index.js';
import {
  KeypadEngine,
  NotSupportedError,
  PanelRefusedError,
  ProtocolError,
  UnreachableError,
  WrongCredentialError,
  type PanelctlError,
} from '../../src/driver-kit/index.js';
import { FrameChannel, maskDigits } from '../../src/driver-kit/index.js';
import { DscDecoder, encodeMessage, type DscFrame, type DscMessage } from './codec.js';
import { Cmd, LCD_WIDTH, LED_NUMBERS, SYSTEM_ERRORS, decodeLcd, splitKeys } from './messages.js';
import { readDisplay, type Display } from './screens.js';

/**
 * The DSC side of the shared keypad engine: commands and their 500 acknowledgements, keys (071
 * strings of at most 6 on an Envisalink, 070 key + key break on an IT-100), and the LCD and LEDs
 * built from every 901/510/903 that arrives.
 */

export type Module = 'envisalink' | 'it100';

export interface KeypadOptions {
  module: Module;
  timeoutMs: number;
  signal?: AbortSignal;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

export { maskDigits, MAX_FRAMES_PER_WAIT } from '../../src/driver-kit/index.js';

/** Commands 000..499 go from a client to the module; the module and panel send 500 and up (IT-100 guide, TPI). */
export function isClientCommand(command: string): boolean {
  return Number(command) < 500;
}

/** A frame filter for `ignore`: these commands pass a wait without ending it. */
export const among =
  (...commands: string[]) =>
  (frame: DscMessage): boolean =>
    commands.includes(frame.command);

const ECHO_HINT =
  'the link sends back what panelctl sends: a loopback plug, a serial-to-TCP converter or modem with local echo on, or a port that is not the IT-100/Envisalink. Check the wiring and the converter settings';

function dscProtocol(module: Module): KeypadProtocol<DscFrame, DscMessage, Display> {
  return {
    classify(frame) {
      if (isClientCommand(frame.command)) {
        // Our own command (a 200 with the code, 005 with the password, keys) coming back: never show its data.
        return {
          kind: 'echo',
          trace: `${frame.command} [data not shown: a client command came back]`,
          error: new ProtocolError(`command ${frame.command}, which only a client sends, came back from the link: the line echoes`, {
            code: 'E_ECHO',
            hint: ECHO_HINT,
          }),
        };
      }
      if (frame.kind === 'message') return { kind: 'message', frame: { command: frame.command, data: frame.data } };
      return { kind: 'noise', trace: `${frame.command} (bad checksum, ignored)` };
    },
    observe(frame, screen) {
      const lcd = frame.command === Cmd.lcdUpdate ? decodeLcd(frame.data) : undefined;
      if (lcd) screen.write(lcd.line, lcd.column, lcd.text);
      else if (frame.command === Cmd.ledState && /^[0-9A-F]{2}$/.test(frame.data)) screen.indicators = parseInt(frame.data, 16);
      else if (frame.command === Cmd.ledStatus && /^[1-9][0-2]$/.test(frame.data))
        screen.setIndicator(LED_NUMBERS[Number(frame.data[0])] ?? 0, frame.data[1] !== '0');
      return `${frame.command} ${lcd ? `${lcd.line}${lcd.column} "${maskDigits(lcd.text)}"` : frame.data}`.trim();
    },
    refusal: refusalOf,
    read: (screen) => readDisplay(screen.lines),
    async sendKeys(engine, keys, shown, options) {
      const keypad = engine as Keypad;
      if (module === 'envisalink') {
        const parts = splitKeys(keys);
        const shownParts = splitKeys(shown);
        for (let i = 0; i < parts.length; i++) await keypad.command(Cmd.keyString, `1${parts[i]}`, `1${shownParts[i]}`, options);
        return;
      }
      for (let i = 0; i < keys.length; i++) {
        await keypad.command(Cmd.keyPressed, keys[i], shown[i], options);
        await keypad.command(Cmd.keyPressed, '^', '^', options);
      }
    },
    layoutHint: 'the panel may use another keypad language or menu layout (see the dsc driver README)',
    noise: { what: 'messages with bad checksums', hint: 'the line is noisy or the baud rate is wrong' },
  };
}

export class Keypad extends KeypadEngine<DscFrame, DscMessage, Display> {
  constructor(
    channel: FrameChannel<DscFrame>,
    readonly decoder: DscDecoder,
    options: KeypadOptions,
  ) {
    super(channel, dscProtocol(options.module), options, { width: LCD_WIDTH, lines: 2 });
  }

  /** The keypad LEDs (510 bitmap / 903 states). */
  get leds(): number {
    return this.screen.indicators;
  }

  async write(command: string, data: string, traceData = data): Promise<void> {
    this.trace('tx', `${command} ${traceData}`.trim());
    await this.channel.send(encodeMessage(command, data));
  }

  /** Sends one command and waits for its 500 acknowledgement. */
  async command(command: string, data = '', traceData = data, options: WaitOptions & { ignore?: (frame: DscMessage) => boolean } = {}): Promise<void> {
    await this.write(command, data, traceData);
    this.counts.commands++;
    await this.until((f) => (f.command === Cmd.ack && f.data === command ? true : undefined), options);
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

/** An IT-100 answers a 200 it cannot parse with 502 020: say what the sources disagree on and what to try. */
export function syntaxErrorOnCode(error: unknown, padCodes: boolean): unknown {
  if (!(error instanceof ProtocolError) || (error.data as { panelMessage?: string } | undefined)?.panelMessage !== '502 020') return error;
  return new ProtocolError(`the module refused the code message (502 020, command syntax error); nothing was entered`, {
    data: { panelMessage: '502 020' },
    hint: padCodes
      ? 'this module may want the code as is: set options.padCodes: false for this panel'
      : 'an IT-100 wants a 4-digit code padded with 00 to six digits: set options.padCodes: true for this panel (the default on an IT-100)',
    cause: error,
  });
}

export function newKeypad(stream: ConstructorParameters<typeof FrameChannel<DscFrame>>[0], options: KeypadOptions): Keypad {
  const decoder = new DscDecoder();
  return new Keypad(new FrameChannel(stream, decoder), decoder, options);
}
