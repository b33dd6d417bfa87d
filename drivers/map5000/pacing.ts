import { UnreachableError } from '../../src/driver-kit/index.js';

/**
 * "Multiple requests to the same MAP panel must be serialized with a delay of at least 1 second
 * between the last response and the next request" (README, General client requests). One Pacer per
 * panel session: `next()` resolves when the next request may start; `done()` marks the end of the
 * answer (or of the failure) so the interval counts from there, as the panel counts it.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Ctrl-C or SIGTERM during a wait: the kit's "cancelled", as the transports report it, so the CLI exits 130 or 143 (not 1). */
const cancelled = (signal: AbortSignal | undefined) => new UnreachableError('E_ABORTED', 'cancelled', { transient: false, cause: signal?.reason });

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled(signal));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(cancelled(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export class Pacer {
  private lastAnswerAt: number | undefined;
  /** When the last answer really came (lastAnswerAt also carries the overload back-off). */
  private answeredAt: number | undefined;
  /** When the last back-off (holdOff) ends. */
  private heldUntil: number | undefined;
  private busy = false;
  /** Total time spent waiting for the interval, for measurements. */
  waitedMs = 0;

  constructor(
    readonly intervalMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** Waits until a request may go out. Requests are serial: calling it twice without done() is a bug. */
  async next(signal?: AbortSignal): Promise<void> {
    if (this.busy) throw new Error('MAP requests must be serial: a request is already in flight');
    if (this.lastAnswerAt !== undefined) {
      const wait = this.lastAnswerAt + this.intervalMs - this.clock.now();
      if (wait > 0) {
        this.waitedMs += wait;
        await this.clock.sleep(wait, signal);
      }
    }
    this.busy = true;
  }

  /** The answer (or the failure) is complete: the interval starts now. */
  done(): void {
    this.busy = false;
    this.lastAnswerAt = this.clock.now();
    this.answeredAt = this.lastAnswerAt;
  }

  /**
   * The previous session on this panel (another process, say) had its last answer `ms` ago: the panel
   * counts the interval from there, so the first request here waits out the rest of it.
   */
  answeredAgo(ms: number): void {
    if (this.lastAnswerAt !== undefined) return;
    this.lastAnswerAt = this.clock.now() - ms;
  }

  /** How long ago this session's last answer came, or undefined before any. */
  sinceLastAnswer(): number | undefined {
    return this.answeredAt === undefined ? undefined : this.clock.now() - this.answeredAt;
  }

  /**
   * Pushes the next request back by `ms` from now (the overload back-off after a 503, or the rest of the
   * one a previous session ended in); never sooner than the interval already asks.
   */
  holdOff(ms: number): void {
    const until = this.clock.now() + ms;
    this.heldUntil = Math.max(this.heldUntil ?? until, until);
    this.lastAnswerAt = Math.max(this.lastAnswerAt ?? -Infinity, until - this.intervalMs);
  }

  /** How long the back-off still lasts, or undefined when none is running (the next session keeps the rest). */
  heldFor(): number | undefined {
    if (this.heldUntil === undefined) return undefined;
    const left = this.heldUntil - this.clock.now();
    return left > 0 ? left : undefined;
  }
}
