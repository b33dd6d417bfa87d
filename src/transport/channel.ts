import { ProtocolError, UnreachableError } from '../core/errors.js';
import type { ByteStream, TimeoutOptions } from './types.js';

/** Turns bytes into frames, incrementally: chunks may split or merge frames anywhere. */
export interface FrameDecoder<F> {
  push(chunk: Uint8Array): F[];
}

interface Waiter<F> {
  accept: (frame: F) => boolean;
  keepOthers: boolean;
  /** Frames that arrived during this wait and were not the one wanted. */
  unrelated: number;
  resolve: (frame: F) => void;
  reject: (error: Error) => void;
}

/**
 * Bounds on what a peer can make the channel hold or wade through (issue 14: a flood of valid,
 * unrelated frames once queued 350 MB in 2 s). Counted in frames, never in time.
 */
export interface ChannelLimits {
  /** Frames kept for later while nobody waits (the oldest go first beyond this). */
  maxQueued: number;
  /** Frames that are not the one wanted, in one wait, before the wait fails as a flood. */
  maxUnrelated: number;
}

export const DEFAULT_LIMITS: ChannelLimits = { maxQueued: 256, maxUnrelated: 1024 };

/**
 * A framed conversation over a ByteStream: decoded frames queue in an inbox, and the driver
 * asks for the next frame it wants, with a timeout. `request` keeps one command in flight at
 * a time (INTEGRA and the DSC keypad both demand it). Losing the stream fails whoever waits.
 * Memory is bounded whatever the peer sends: the inbox keeps at most `maxQueued` frames, and a
 * wait that sees more than `maxUnrelated` frames it did not ask for fails with a protocol error.
 */
export class FrameChannel<F> {
  private readonly inbox: F[] = [];
  private waiter?: Waiter<F>;
  private lost?: Error;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly detach: Array<() => void> = [];
  private readonly limits: ChannelLimits;
  /** Frames dropped from a full inbox (the oldest first) since the channel opened. */
  overflowed = 0;

  constructor(
    readonly stream: ByteStream,
    private readonly decoder: FrameDecoder<F>,
    private readonly peerName = 'panel',
    limits: Partial<ChannelLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.detach.push(stream.onData((chunk) => this.receive(chunk)));
    this.detach.push(
      stream.onClose((error) => {
        this.lost = new UnreachableError('E_LOST', `lost the ${this.peerName}: the connection closed${error ? ` (${error.message})` : ''}`, {
          cause: error,
          hint: 'check the cable or network; nothing after the last confirmed step was done',
        });
        this.waiter?.reject(this.lost);
        this.waiter = undefined;
      }),
    );
  }

  private receive(chunk: Buffer): void {
    let frames: F[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      // Decoders are meant never to throw; if one does, fail the waiter rather than crash.
      this.waiter?.reject(new ProtocolError(`could not decode the ${this.peerName}'s answer`, { cause: error }));
      this.waiter = undefined;
      return;
    }
    for (const frame of frames) {
      const waiter = this.waiter;
      if (waiter?.accept(frame)) {
        this.waiter = undefined;
        waiter.resolve(frame);
        continue;
      }
      if (waiter && ++waiter.unrelated > this.limits.maxUnrelated) {
        this.waiter = undefined;
        this.inbox.length = 0;
        waiter.reject(this.floodError(waiter.unrelated));
        continue;
      }
      // A waiter that keeps no others would throw this frame away anyway: drop it now.
      if (waiter && !waiter.keepOthers) continue;
      this.inbox.push(frame);
      if (this.inbox.length > this.limits.maxQueued) {
        this.inbox.shift();
        this.overflowed++;
      }
    }
  }

  private floodError(count: number): ProtocolError {
    return new ProtocolError(`the ${this.peerName} sent ${count} frames nobody asked for while panelctl waited for one answer (a flood); gave up`, {
      code: 'E_FLOOD',
      hint: 'another program or device is talking on this link, or the peer is not the panel it should be; check what is connected',
    });
  }

  /** Frames held for later (never more than maxQueued). */
  get queued(): number {
    return this.inbox.length;
  }

  /** Frames that arrived and nobody asked for yet (DSC sends many unsolicited ones). */
  drain(): F[] {
    return this.inbox.splice(0);
  }

  /** Waits for the first frame `accept` likes; frames before it stay in the inbox only if `keepOthers`. */
  next(accept: (frame: F) => boolean, options: TimeoutOptions, keepOthers = false): Promise<F> {
    const index = this.inbox.findIndex(accept);
    if (index >= 0) {
      const [frame] = this.inbox.splice(index, 1);
      if (!keepOthers) this.inbox.splice(0, index);
      return Promise.resolve(frame);
    }
    if (!keepOthers) this.inbox.length = 0;
    if (this.lost) return Promise.reject(this.lost);
    if (this.waiter) return Promise.reject(new Error('FrameChannel: only one waiter at a time'));

    return new Promise<F>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new UnreachableError('E_TIMEOUT', `no answer from the ${this.peerName} within ${formatMs(options.timeoutMs)} (${this.stream.description})`, {
            hint: 'the panel may be busy, powered off, or on different line settings; raise --timeout if the link is slow',
          }),
        );
      }, options.timeoutMs);
      const onAbort = () => {
        finish();
        reject(new UnreachableError('E_ABORTED', 'cancelled', { transient: false, cause: options.signal?.reason }));
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        accept,
        keepOthers,
        unrelated: 0,
        resolve: (frame) => {
          finish();
          resolve(frame);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
    });
  }

  async send(bytes: Uint8Array): Promise<void> {
    if (this.lost) throw this.lost;
    await this.stream.write(bytes);
  }

  /** Send, then wait for the answer; calls are queued so only one is ever in flight. */
  request(bytes: Uint8Array, accept: (frame: F) => boolean, options: TimeoutOptions): Promise<F> {
    const run = async () => {
      this.inbox.length = 0; // stale answers to an earlier, timed-out request must not match this one
      await this.send(bytes);
      return this.next(accept, options);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  get isLost(): boolean {
    return this.lost !== undefined;
  }

  async close(): Promise<void> {
    for (const off of this.detach.splice(0)) off();
    await this.stream.close();
  }
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s` : `${ms} ms`;
}
