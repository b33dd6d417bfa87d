import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { makePtyPair } from './pty-pair.js';

/**
 * Hostile links for tests: a TCP endpoint that writes back whatever it reads (a loopback plug,
 * an echoing converter), one that answers every request with an endless flood of valid frames
 * that answer nothing, and a pseudo-terminal whose far end echoes (a tty in echo mode).
 */

export interface HostileServer {
  port: number;
  /** Bytes the server received (what panelctl sent) and sent. */
  stats: { received: number; sent: number; connections: number };
  close(): Promise<void>;
}

function serve(onSocket: (socket: net.Socket, stats: HostileServer['stats']) => void, allowHalfOpen = false): Promise<HostileServer> {
  const stats = { received: 0, sent: 0, connections: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen }, (socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket, stats);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        stats,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Writes back every byte it reads, as a loopback plug would. */
export function startEchoServer(): Promise<HostileServer> {
  return serve((socket, stats) => {
    socket.on('data', (chunk) => {
      stats.received += chunk.length;
      stats.sent += chunk.length;
      socket.write(chunk);
    });
  });
}

/**
 * Once the client has sent anything (or at once with `greeting`), sends `frame` over and over as
 * fast as the socket takes it, until the client goes away: valid frames, none of them an answer.
 */
export function startFloodServer(frame: Buffer, options: { greeting?: Buffer; batch?: number } = {}): Promise<HostileServer> {
  const batch = Buffer.concat(Array(options.batch ?? 512).fill(frame));
  return serve((socket, stats) => {
    let flooding = false;
    const flood = () => {
      if (flooding) return;
      flooding = true;
      const pump = () => {
        while (!socket.destroyed && socket.writable) {
          stats.sent += batch.length;
          if (!socket.write(batch)) return socket.once('drain', pump);
        }
      };
      pump();
    };
    if (options.greeting) socket.write(options.greeting);
    socket.on('data', (chunk) => {
      stats.received += chunk.length;
      flood();
    });
  });
}

/**
 * A pseudo-terminal panelctl can open whose far side is a tty in echo mode with nobody reading
 * it: every byte written comes straight back, as on a serial loopback plug.
 */
export async function makeEchoPty(): Promise<{ path: string; close(): Promise<void>; process: ChildProcess }> {
  const pair = await makePtyPair({ farEndEchoes: true });
  return { path: pair.a, process: pair.process, close: pair.close };
}

/**
 * A TCP proxy to `port` that holds back the reply to each request `hold` picks until the client
 * sends its next request (or starts closing the connection), then delivers it: a reply that
 * arrives after its request timed out, at a moment a test controls (no timers). Assumes one
 * request per chunk (MBAP over loopback).
 */
export function startLateReplyProxy(port: number, hold: (request: Buffer) => boolean): Promise<HostileServer & { late: number }> {
  let late = 0;
  return serve((client, stats) => {
    const server = net.connect(port, '127.0.0.1');
    let holdNext = false;
    let held: Buffer | undefined;
    client.on('data', (chunk) => {
      stats.received += chunk.length;
      if (held) {
        client.write(held);
        late++;
        held = undefined;
      }
      holdNext = hold(chunk);
      server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (holdNext) {
        held = held ? Buffer.concat([held, chunk]) : chunk;
        holdNext = false;
        return;
      }
      stats.sent += chunk.length;
      client.write(chunk);
    });
    // The client gave up and is closing: the held reply arrives now, while it still listens.
    client.on('end', () => {
      if (held) {
        client.write(held);
        late++;
        held = undefined;
      }
      client.end();
    });
    server.on('error', () => client.destroy());
    server.on('close', () => client.destroy());
    client.on('close', () => server.destroy());
  }, true).then((handle) => Object.defineProperty(handle, 'late', { get: () => late }) as HostileServer & { late: number });
}

/**
 * A half-duplex RS-485 adapter with local echo, in front of a real device on `port`: every byte
 * the client sends comes straight back to it, then the device's answer follows.
 */
export function startEchoingAdapter(port: number): Promise<HostileServer> {
  return serve((client, stats) => {
    const device = net.connect(port, '127.0.0.1');
    client.on('data', (chunk) => {
      stats.received += chunk.length;
      client.write(chunk);
      device.write(chunk);
    });
    device.on('data', (chunk) => client.write(chunk));
    device.on('error', () => client.destroy());
    device.on('close', () => client.destroy());
    client.on('close', () => device.destroy());
  });
}
