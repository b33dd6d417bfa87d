import type { ByteStream, KeypadProtocol, KeypadScreen, WaitOptions } from '../../src/driver-kit/index.js';
import { FrameChannel, KeypadEngine, ProtocolError, UnreachableError } from '../../src/driver-kit/index.js';
import { Ad2Decoder, type Ad2Frame } from './codec.js';
import type { KeySequence } from './keys.js';
import { type Ad2Line, isFor, type KeypadMessage } from './messages.js';
import { displayShown, showsTest } from './screens.js';

/**
 * The AlarmDecoder side of the shared keypad engine (src/driver-kit/keypad): every line read in
 * order, the 2x16 display and the status bits of the keypad messages for our keypad address,
 * keys typed one at a time at a keypad's pace with the code digits masked in the trace. An echo,
 * a line that is not the AlarmDecoder's, or a flood ends the conversation with exit 5.
 */

export interface Ad2KeypadOptions {
  address: number;
  /** Pause between keys: a person types a few keys a second; a VISTA drops an entry after 2-3 s of quiet (README). */
  keyIntervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

/** The display as the driver reads it. */
export interface VistaDisplay {
  text: string;
  ready: boolean;
  armed: boolean;
  programming: boolean;
  testActive: boolean;
}

/** Status bits kept as screen indicators. */
const Indicator = { ready: 1, armed: 2, programming: 4 } as const;

const ECHO_HINT =
  'the link sends back what panelctl sends: a loopback plug, a serial-to-TCP converter or modem with local echo on, or a port that is not the AlarmDecoder. Check the wiring and the converter settings';

/** What the protocol learns beyond the screen: the AD2's version and the last keypad message for us. */
interface Heard {
  version?: string;
  last?: KeypadMessage;
}

function describe(message: KeypadMessage, ours: boolean): string {
  const flags = Object.entries(message.bits)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .join(',');
  return `${ours ? '' : '(other keypad) '}"${displayShown(message.text)}" ${flags}${message.beeps ? ` beeps=${message.beeps}` : ''}`;
}

function ad2Protocol(options: Ad2KeypadOptions, heard: Heard): KeypadProtocol<Ad2Frame, Ad2Line, VistaDisplay> {
  return {
    classify(frame) {
      if (frame.kind === 'client') {
        return {
          kind: 'echo',
          trace: '[a line that starts like our own keys or commands: not shown]',
          error: new ProtocolError('what panelctl sent came back from the link: the line echoes', { code: 'E_ECHO', hint: ECHO_HINT }),
        };
      }
      if (frame.kind === 'malformed') {
        // Not noise to skip: an AlarmDecoder never sends it, so the peer is not one (or the line is garbled).
        return {
          kind: 'echo',
          trace: `[not an AlarmDecoder line: ${frame.shown}]`,
          error: new ProtocolError(`the link sent a line that is not an AlarmDecoder message (${frame.reason}: "${frame.shown}")`, {
            hint: 'check that the link reaches the AlarmDecoder (ser2sock port 10000, or its serial port at the right speed, 115200 by default)',
          }),
        };
      }
      return { kind: 'message', frame };
    },
    observe(frame, screen) {
      switch (frame.kind) {
        case 'keypad': {
          const ours = isFor(frame.message, options.address);
          if (ours) {
            heard.last = frame.message;
            screen.show(frame.message.text);
            const { bits } = frame.message;
            screen.setIndicator(Indicator.ready, bits.ready);
            screen.setIndicator(Indicator.armed, bits.armedAway || bits.armedHome);
            screen.setIndicator(Indicator.programming, bits.programming);
          }
          return describe(frame.message, ours);
        }
        case 'version':
          heard.version = frame.version;
          return `!VER ${frame.version}`;
        case 'sending':
          return `!Sending ${frame.ok ? 'done' : 'failed'}`;
        case 'event':
          return `!${frame.event} (ignored)`;
        default:
          return `${frame.kind} (ignored)`;
      }
    },
    refusal(frame) {
      if (frame.kind === 'sending' && !frame.ok) {
        return new UnreachableError('E_SEND', 'the AlarmDecoder could not put the keys on the keypad bus (it gave up after five tries)', {
          hint: 'the keypad bus may be busy or the AlarmDecoder badly wired; nothing was acknowledged by the panel',
        });
      }
      return undefined;
    },
    read(screen: KeypadScreen): VistaDisplay {
      const text = screen.lines.join('');
      return {
        text,
        ready: screen.has(Indicator.ready),
        armed: screen.has(Indicator.armed),
        programming: screen.has(Indicator.programming),
        testActive: showsTest(text),
      };
    },
    async sendKeys(engine, keys, shown, wait) {
      const signal = wait.useSignal === false ? undefined : options.signal;
      engine.trace('tx', `keys ${shown} (${keys.length} keys, ${options.keyIntervalMs} ms apart)`);
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) await pause(options.keyIntervalMs, signal);
        else if (signal?.aborted) throw aborted(signal);
        await engine.channel.send(Buffer.from(keys[i], 'latin1'));
      }
    },
    layoutHint: 'the keypad may show another text for this state (see the vista driver README: the display texts)',
    noise: { what: 'lines that are not AlarmDecoder messages', hint: 'check that the link reaches the AlarmDecoder at the right speed' },
  };
}

export class Ad2Keypad extends KeypadEngine<Ad2Frame, Ad2Line, VistaDisplay> {
  readonly decoder: Ad2Decoder;
  private readonly heard: Heard;

  constructor(
    stream: ByteStream,
    readonly settings: Ad2KeypadOptions,
  ) {
    const decoder = new Ad2Decoder();
    const heard: Heard = {};
    super(new FrameChannel(stream, decoder, 'AlarmDecoder'), ad2Protocol(settings, heard), settings, { width: 16, lines: 2 });
    this.decoder = decoder;
    this.heard = heard;
  }

  /** The AlarmDecoder's firmware version, once it answered V. */
  get version(): string | undefined {
    return this.heard.version;
  }

  /** The last keypad message for our address. */
  get last(): KeypadMessage | undefined {
    return this.heard.last;
  }

  /** Waits for a keypad message for our address that `pick` accepts (`since`: look back from that frameSeq first). */
  untilKeypad<T>(pick: (message: KeypadMessage) => T | undefined, options: WaitOptions & { since?: number } = {}): Promise<T> {
    return this.until((f) => (f.kind === 'keypad' && isFor(f.message, this.settings.address) ? pick(f.message) : undefined), options);
  }

  /** A device command (V, C), ended by CR. Never carries a secret. */
  async command(text: string): Promise<void> {
    this.trace('tx', text);
    await this.channel.send(Buffer.from(`${text}\r`, 'latin1'));
  }

  /** Types a sequence (its secret keys masked in the trace); `useSignal: false` for keys that must go out after Ctrl-C. */
  type(sequence: KeySequence, options: WaitOptions = {}): Promise<void> {
    this.trace('tx', `(${sequence.what})`);
    return this.press(sequence.keys, sequence.shown, options);
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}

function aborted(signal: AbortSignal): UnreachableError {
  return new UnreachableError('E_ABORTED', 'cancelled', { transient: false, cause: signal.reason });
}

/** Waits `ms`; Ctrl-C ends the wait early with E_ABORTED. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
