import type { ByteStream } from '../../transport/types.js';

/**
 * The one-client rule of the real modules (an ETHM-1, an Envisalink's TPI, an AlarmDecoder's
 * ser2sock as panelctl uses it): while a client is connected, a newcomer gets the vendor's busy
 * answer. A client that has closed does not count: a client reconnecting right after closing
 * often arrives before its old connection's end has been read (both are ready in the same
 * turn of the event loop, the newcomer first), so a newcomer meeting a held client waits up to
 * `graceMs` for that client to go before it is turned away.
 */
export interface OneClientOptions {
  /** Serve this client (it is now the one). */
  serve(stream: ByteStream): void;
  /** Turn this newcomer away the vendor's way ("Busy!", or a silent close). */
  busy(stream: ByteStream): void;
  /** How long a newcomer waits for a held client that may be closing (default 250 ms). */
  graceMs?: number;
}

export class OneClient {
  private current?: ByteStream;
  /** Newcomers that met a held client, first come first served. */
  private readonly waiting: Array<{ stream: ByteStream; timer: NodeJS.Timeout }> = [];

  constructor(private readonly options: OneClientOptions) {}

  /** The client being served, if it is still connected. */
  get client(): ByteStream | undefined {
    return this.current && !this.current.closed ? this.current : undefined;
  }

  /** Hand it each accepted connection. */
  offer(stream: ByteStream): void {
    if (!this.client && !this.waiting.length) return this.take(stream);
    const timer = setTimeout(() => this.expire(stream), this.options.graceMs ?? 250);
    this.waiting.push({ stream, timer });
  }

  private take(stream: ByteStream): void {
    this.current = stream;
    stream.onClose(() => {
      if (this.current !== stream) return;
      this.current = undefined;
      // Let the simulator's own close handlers run before the next client starts.
      setImmediate(() => this.next());
    });
    this.options.serve(stream);
  }

  /** Serves the first newcomer still connected, if the line is free. */
  private next(): void {
    while (!this.client) {
      const first = this.waiting.shift();
      if (!first) return;
      clearTimeout(first.timer);
      if (!first.stream.closed) this.take(first.stream);
    }
  }

  /** A newcomer's grace is over: served if the line has come free, turned away otherwise. */
  private expire(stream: ByteStream): void {
    this.next();
    const index = this.waiting.findIndex((w) => w.stream === stream);
    if (index < 0) return;
    this.waiting.splice(index, 1);
    if (!stream.closed) this.options.busy(stream);
  }
}
