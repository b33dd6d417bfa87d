import type { ByteStream } from '../../src/driver-kit/index.js';
import { FrameChannel, formatMs, ProtocolError, UnreachableError } from '../../src/driver-kit/index.js';
import { Ad2Decoder, type Ad2Frame } from './codec.js';
import type { KeySequence } from './keys.js';
import { type KeypadMessage, isFor } from './messages.js';
import { KeypadModel } from './panel.js';
import { displayShown } from './screens.js';

/**
 * The AlarmDecoder conversation as the driver sees it: every line read in order (a display change
 * is never missed), the keypad model fed from them, keys sent one at a time at a keypad's pace with
 * the secret ones masked in the trace. An echo, a line that is not the AlarmDecoder's, or a flood
 * ends the conversation with a protocol error (exit 5).
 */

export interface Ad2KeypadOptions {
  address: number;
  /** Pause between keys: a person types a few keys a second; a VISTA drops an entry after 2-3 s of quiet (README). */
  keyIntervalMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

/** Lines one wait may read before the link counts as flooding (a VISTA sends a few a second). */
export const MAX_LINES_PER_WAIT = 1000;

const ECHO_HINT =
  'the link sends back what panelctl sends: a loopback plug, a serial-to-TCP converter or modem with local echo on, or a port that is not the AlarmDecoder. Check the wiring and the converter settings';

export interface WaitOptions {
  timeoutMs?: number;
  /** False: Ctrl-C does not cut this wait (cleanup on the way out). */
  useSignal?: boolean;
}

export class Ad2Keypad {
  readonly model: KeypadModel;
  readonly decoder = new Ad2Decoder();
  readonly channel: FrameChannel<Ad2Frame>;
  /** The AlarmDecoder's firmware version, once it answered V. */
  version?: string;
  /** Keys sent (for the bench: against the minimum sequence length). */
  keysSent = 0;

  constructor(
    stream: ByteStream,
    private readonly options: Ad2KeypadOptions,
  ) {
    this.model = new KeypadModel(options.address);
    this.channel = new FrameChannel(stream, this.decoder, 'AlarmDecoder');
  }

  /** The next line before `deadline`, fed to the model; echo and malformed lines end the conversation. */
  private async next(deadline: number, waitMs: number, useSignal: boolean): Promise<Ad2Frame> {
    let frame: Ad2Frame;
    try {
      frame = await this.channel.next(() => true, { timeoutMs: Math.max(1, deadline - Date.now()), signal: useSignal ? this.options.signal : undefined }, true);
    } catch (error) {
      // The channel only saw the last slice of the wait; say how long the panel really had.
      if (error instanceof UnreachableError && error.code === 'E_TIMEOUT') {
        throw new UnreachableError('E_TIMEOUT', `no answer from the AlarmDecoder within ${formatMs(waitMs)} (${this.channel.stream.description})`, {
          hint: error.hint,
          cause: error,
        });
      }
      throw error;
    }
    switch (frame.kind) {
      case 'client':
        this.options.trace?.('rx', '[a line that starts like our own keys or commands: not shown]');
        throw new ProtocolError('what panelctl sent came back from the link: the line echoes', { code: 'E_ECHO', hint: ECHO_HINT });
      case 'malformed':
        this.options.trace?.('rx', `[not an AlarmDecoder line: ${frame.shown}]`);
        throw new ProtocolError(`the link sent a line that is not an AlarmDecoder message (${frame.reason}: "${frame.shown}")`, {
          hint: 'check that the link reaches the AlarmDecoder (ser2sock port 10000, or its serial port at the right speed, 115200 by default)',
        });
      case 'keypad': {
        const ours = this.model.update(frame.message);
        this.options.trace?.('rx', describe(frame.message, ours));
        return frame;
      }
      case 'version':
        this.version = frame.version;
        this.options.trace?.('rx', `!VER ${frame.version}`);
        return frame;
      case 'sending':
        this.options.trace?.('rx', `!Sending ${frame.ok ? 'done' : 'failed'}`);
        if (!frame.ok) {
          throw new UnreachableError('E_SEND', 'the AlarmDecoder could not put the keys on the keypad bus (it gave up after five tries)', {
            hint: 'the keypad bus may be busy or the AlarmDecoder badly wired; nothing was acknowledged by the panel',
          });
        }
        return frame;
      default:
        this.options.trace?.('rx', frame.kind === 'event' ? `!${frame.event} (ignored)` : `${frame.kind} (ignored)`);
        return frame;
    }
  }

  /** Reads lines until `pick` returns something (it sees every line, in order). */
  async until<T>(pick: (frame: Ad2Frame) => T | undefined, options: WaitOptions = {}): Promise<T> {
    const waitMs = options.timeoutMs ?? this.options.timeoutMs;
    const deadline = Date.now() + waitMs;
    for (let read = 1; ; read++) {
      if (read > MAX_LINES_PER_WAIT) {
        throw new ProtocolError(`the AlarmDecoder sent ${MAX_LINES_PER_WAIT} lines without the one panelctl waits for (a flood); gave up`, {
          code: 'E_FLOOD',
          hint: 'another program or device is talking on this link, or the peer is not an AlarmDecoder; check what is connected',
        });
      }
      const picked = pick(await this.next(deadline, waitMs, options.useSignal ?? true));
      if (picked !== undefined) return picked;
    }
  }

  /** Waits for a keypad message for our address that `pick` accepts. */
  untilKeypad<T>(pick: (message: KeypadMessage) => T | undefined, options: WaitOptions = {}): Promise<T> {
    return this.until((f) => (f.kind === 'keypad' && isFor(f.message, this.options.address) ? pick(f.message) : undefined), options);
  }

  /** A device command (V, C), ended by CR. Never carries a secret. */
  async command(text: string): Promise<void> {
    this.options.trace?.('tx', text);
    await this.channel.send(Buffer.from(`${text}\r`, 'latin1'));
  }

  /**
   * Types a sequence, one key at a time, `keyIntervalMs` apart. Ctrl-C is honoured between keys;
   * `useSignal: false` for keys that must go out even after Ctrl-C (ending a walk test on the way out).
   */
  async press(sequence: KeySequence, options: { useSignal?: boolean } = {}): Promise<void> {
    const signal = options.useSignal === false ? undefined : this.options.signal;
    this.options.trace?.('tx', `keys ${sequence.shown} (${sequence.what}; ${sequence.keys.length} keys, ${this.options.keyIntervalMs} ms apart)`);
    for (let i = 0; i < sequence.keys.length; i++) {
      if (i > 0) await pause(this.options.keyIntervalMs, signal);
      else if (signal?.aborted) throw aborted(signal);
      await this.channel.send(Buffer.from(sequence.keys[i], 'latin1'));
      this.keysSent++;
    }
  }

  /** The display, safe to show. */
  get shown(): string {
    return this.model.shown;
  }

  close(): Promise<void> {
    return this.channel.close();
  }
}

function describe(message: KeypadMessage, ours: boolean): string {
  const flags = Object.entries(message.bits)
    .filter(([, on]) => on)
    .map(([name]) => name)
    .join(',');
  return `${ours ? '' : '(other keypad) '}"${displayShown(message.text)}" ${flags}${message.beeps ? ` beeps=${message.beeps}` : ''}`;
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
