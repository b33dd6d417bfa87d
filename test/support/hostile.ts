import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';

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

function serve(onSocket: (socket: net.Socket, stats: HostileServer['stats']) => void): Promise<HostileServer> {
  const stats = { received: 0, sent: 0, connections: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
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
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=1,ctlecho=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const paths = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not report its ptys: ${stderr}`)), 5000);
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const found = [...stderr.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1]);
      if (found.length === 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', () => reject(new Error(`socat exited: ${stderr}`)));
  });
  return {
    path: paths[0],
    process: child,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
