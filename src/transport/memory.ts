import type { ByteStream } from './types.js';

/**
 * Two ByteStreams joined back to back in memory: what one writes, the other receives (on the
 * next tick, as from a socket). For the fuzz harness and tests that play a hostile peer without
 * a port; `description` says "memory://NAME".
 */
export function memoryPair(name = 'pair'): [ByteStream, ByteStream] {
  type End = { data: Set<(chunk: Buffer) => void>; close: Set<(error?: Error) => void> };
  const ends: [End, End] = [
    { data: new Set(), close: new Set() },
    { data: new Set(), close: new Set() },
  ];
  let closed = false;
  const shut = () => {
    if (closed) return;
    closed = true;
    for (const end of ends) for (const listener of end.close) listener();
  };
  const make = (self: End, peer: End): ByteStream => ({
    description: `memory://${name}`,
    get closed() {
      return closed;
    },
    async write(data) {
      if (closed) throw new Error('memory stream closed');
      const chunk = Buffer.from(data);
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const listener of peer.data) listener(chunk);
    },
    onData(listener) {
      self.data.add(listener);
      return () => self.data.delete(listener);
    },
    onClose(listener) {
      if (closed) {
        listener();
        return () => undefined;
      }
      self.close.add(listener);
      return () => self.close.delete(listener);
    },
    async close() {
      shut();
    },
  });
  return [make(ends[0], ends[1]), make(ends[1], ends[0])];
}
