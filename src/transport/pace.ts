import type { ByteStream } from './types.js';

/**
 * Delays writes so bytes leave at the pace of a real serial line (10 bits per byte for 8N1).
 * Pseudo-terminals move bytes instantly whatever baud rate is set, so simulators use this
 * to make serial timings mean something.
 */
export function paced(stream: ByteStream, baud: number): ByteStream {
  let lineFreeAt = 0;
  return {
    get description() {
      return stream.description;
    },
    get closed() {
      return stream.closed;
    },
    onData: (listener) => stream.onData(listener),
    onClose: (listener) => stream.onClose(listener),
    close: () => stream.close(),
    async write(data) {
      const now = Date.now();
      const start = Math.max(now, lineFreeAt);
      lineFreeAt = start + (data.length * 10 * 1000) / baud;
      const wait = lineFreeAt - now;
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      await stream.write(data);
    },
  };
}
