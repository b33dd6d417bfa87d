import net from 'node:net';
import { UnreachableError } from '../core/errors.js';
import { waitForConnection } from './connect-wait.js';
import type { ByteStream, TimeoutOptions } from './types.js';

/** Wraps a connected socket as a ByteStream. */
export function socketStream(socket: net.Socket, description: string): ByteStream {
  let closed = false;
  let closeError: Error | undefined;
  const closeListeners = new Set<(error?: Error) => void>();
  socket.setNoDelay(true);
  socket.on('error', (error) => {
    closeError = error;
  });
  socket.on('close', () => {
    closed = true;
    for (const listener of closeListeners) listener(closeError);
    closeListeners.clear();
  });
  return {
    description,
    get closed() {
      return closed;
    },
    write(data) {
      return new Promise((resolve, reject) => {
        if (closed || socket.destroyed) return reject(new UnreachableError('E_LOST', `lost the connection to ${description}`));
        socket.write(data, (error) =>
          error ? reject(new UnreachableError('E_LOST', `could not send to ${description}: ${error.message}`, { cause: error })) : resolve(),
        );
      });
    },
    onData(listener) {
      socket.on('data', listener);
      return () => socket.off('data', listener);
    },
    onClose(listener) {
      if (closed) {
        listener(closeError);
        return () => undefined;
      }
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    close() {
      return new Promise((resolve) => {
        if (closed) return resolve();
        socket.once('close', () => resolve());
        socket.end();
        // A peer that never finishes its side must not keep us waiting.
        setTimeout(() => socket.destroy(), 500).unref();
      });
    },
  };
}

const CONNECT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listening on that port, or the module is disabled)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset by the panel',
};

/** A failed connection attempt as the typed error every transport uses (TCP, and HTTP(S) underneath). */
export function connectFailure(error: NodeJS.ErrnoException, description: string): UnreachableError {
  return new UnreachableError(
    error.code === 'ECONNREFUSED' ? 'E_REFUSED' : 'E_CONNECT',
    `cannot reach ${description}: ${CONNECT_REASONS[error.code ?? ''] ?? error.message}`,
    { cause: error, transient: error.code !== 'ENOTFOUND' },
  );
}

/** Opens a TCP connection, failing with a typed error on refusal, timeout or abort. */
export function connectTcp(host: string, port: number, options: TimeoutOptions): Promise<ByteStream> {
  const description = `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const socket = net.connect({ host, port });
  return waitForConnection(socket, { ...options, description, readyOn: 'connect', failure: (error) => connectFailure(error, description) }).then((ready) =>
    socketStream(ready, description),
  );
}

export interface TcpServerHandle {
  port: number;
  host: string;
  close(): Promise<void>;
}

/** Serves each accepted connection to `onConnection` (simulators use this). */
export function serveTcp(host: string, port: number, onConnection: (stream: ByteStream) => void): Promise<TcpServerHandle> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socketStream(socket, `tcp://${socket.remoteAddress}:${socket.remotePort}`));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        host,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
