/**
 * How many panels bulk apply is connected to at once (--concurrency). A panel takes a connection
 * before it connects (and takes its work lock) and gives it back once its connection is closed;
 * what follows its last exchange (its audit entry made durable, the journal's 'done', the work lock
 * released) runs without one, so the next panel connects meanwhile (issue 20). Waiters are served
 * in the order they asked.
 */
export class Connections {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`concurrency must be at least 1, not ${limit}`);
    this.free = limit;
  }

  /** Resolves once a connection is this caller's. */
  take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives a connection back: to the longest waiter, else to the pool. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
