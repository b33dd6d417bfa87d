/**
 * A connected byte stream to or from a panel: a TCP socket or an open serial port.
 * Drivers and simulators see only this, so a protocol works the same over either.
 */
export interface ByteStream {
  /** Human-readable peer, for messages: "tcp://10.0.0.5:7094", "serial:///dev/ttyUSB0". */
  readonly description: string;
  readonly closed: boolean;
  write(data: Uint8Array): Promise<void>;
  /** Returns a function that removes the listener. */
  onData(listener: (chunk: Buffer) => void): () => void;
  /** Called once when the stream ends, with the error if it ended badly. */
  onClose(listener: (error?: Error) => void): () => void;
  close(): Promise<void>;
}

export interface TimeoutOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}
