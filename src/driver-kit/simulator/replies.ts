import type { ByteStream } from '../../transport/types.js';
import type { FaultKnobs } from './faults.js';

/**
 * Answers in order, through the fault knobs: a lost answer is never sent, a spoiled one is
 * encoded with a bad check value, each waits the configured latency, and none is written to a
 * stream that has closed. Panels that answer in order (most do) use one queue per client.
 */
export class ReplyQueue {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly stream: ByteStream,
    private readonly faults: FaultKnobs,
  ) {}

  /**
   * Queues one answer; `encode(corrupt)` makes its bytes. Returns false when the drop knob took it.
   */
  send(encode: (corrupt: boolean) => Uint8Array): boolean {
    if (this.faults.dropThisReply()) return false;
    const bytes = encode(this.faults.corruptThisReply());
    const latency = this.faults.latencyMs;
    this.queue = this.queue.then(async () => {
      if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
      if (!this.stream.closed) await this.stream.write(bytes).catch(() => undefined);
    });
    return true;
  }

  /** Runs `work` after every answer queued so far has gone (a hang-up after the last words). */
  after(work: () => unknown): void {
    this.queue = this.queue.then(async () => {
      await Promise.resolve(work()).catch(() => undefined);
    });
  }

  /** Resolves when every answer queued so far has gone. */
  drained(): Promise<void> {
    return this.queue;
  }
}
