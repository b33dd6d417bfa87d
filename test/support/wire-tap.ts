import net from 'node:net';

/**
 * A TCP relay between a driver and its simulator, for the conformance suite: it records what the
 * client sent (to count how often a credential went out), and can cut the link (`drop`) or stop
 * passing bytes in either direction while keeping the connection open (`silence`). Works for any
 * link that is TCP underneath (tcp://, http://, https:// with TLS passed through untouched).
 */
export interface WireTap {
  port: number;
  /** Everything the client sent, over every connection, in order. */
  sent(): Buffer;
  /** Resolves once the client has sent more than `bytes` bytes in total. */
  sentMoreThan(bytes: number): Promise<void>;
  drop(): void;
  silence(): void;
  close(): Promise<void>;
}

export async function wireTap(upstreamHost: string, upstreamPort: number): Promise<WireTap> {
  const chunks: Buffer[] = [];
  let total = 0;
  let silent = false;
  const sockets = new Set<net.Socket>();
  const waiters: Array<{ bytes: number; resolve: () => void }> = [];
  const heard = () => {
    for (const w of waiters.splice(0)) {
      if (total > w.bytes) w.resolve();
      else waiters.push(w);
    }
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, upstreamHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => {
      chunks.push(chunk);
      total += chunk.length;
      heard();
      if (!silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => Buffer.concat(chunks),
    sentMoreThan: (bytes) =>
      new Promise<void>((resolve) => {
        waiters.push({ bytes, resolve });
        heard();
      }),
    drop() {
      for (const s of sockets) s.destroy();
    },
    silence() {
      silent = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
