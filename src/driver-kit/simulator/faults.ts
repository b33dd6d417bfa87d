/**
 * The fault knobs every simulated link has: answers late, answers lost, answers spoiled, the line
 * reset after some frames. Each simulator keeps its own option names (`corruptCrc` on INTEGRA,
 * `corruptChecksum` on DSC) and maps them here; the counting lives in one place.
 */
export interface LinkFaults {
  /** Delay every answer by this many ms. */
  latencyMs: number;
  /** Swallow the next N answers (what the request asked for still happens). */
  dropReplies: number;
  /** Spoil the check value of the next N answers, keeping them well-formed otherwise. */
  corruptReplies: number;
  /** Reset the connection when the Nth frame from now arrives (then the fault clears). 0: never. */
  resetAfterFrames: number;
}

export const NO_FAULTS: LinkFaults = { latencyMs: 0, dropReplies: 0, corruptReplies: 0, resetAfterFrames: 0 };

export class FaultKnobs {
  private faults: LinkFaults = { ...NO_FAULTS };
  private framesSinceSet = 0;

  constructor(initial: Partial<LinkFaults> = {}) {
    this.set(initial);
  }

  /** Changes some knobs; the frame count for `resetAfterFrames` starts again. */
  set(faults: Partial<LinkFaults>): void {
    const defined = Object.fromEntries(Object.entries(faults).filter(([, v]) => v !== undefined));
    this.faults = { ...this.faults, ...defined };
    this.framesSinceSet = 0;
  }

  get latencyMs(): number {
    return this.faults.latencyMs;
  }

  /** Whether this answer is to be lost (counts one down). */
  dropThisReply(): boolean {
    return this.take('dropReplies');
  }

  /** Whether this answer is to be spoiled (counts one down). */
  corruptThisReply(): boolean {
    return this.take('corruptReplies');
  }

  /** Call for each frame received: true when the line is to be reset now (the fault then clears). */
  resetOnThisFrame(): boolean {
    this.framesSinceSet++;
    if (!this.faults.resetAfterFrames || this.framesSinceSet < this.faults.resetAfterFrames) return false;
    this.faults.resetAfterFrames = 0;
    return true;
  }

  /** Waits the configured latency (nothing when 0). */
  async delay(): Promise<void> {
    if (this.faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
  }

  private take(name: 'dropReplies' | 'corruptReplies'): boolean {
    if (this.faults[name] <= 0) return false;
    this.faults[name]--;
    return true;
  }
}
