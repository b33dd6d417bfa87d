import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { waitForConnection } from '../../src/transport/connect-wait.js';

/** The one connect deadline/abort block TCP and HTTP(S) share, against a loopback server that accepts and stays silent. */

let server: net.Server;
let port: number;
const accepted: net.Socket[] = [];

beforeAll(async () => {
  server = net.createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const failure = (error: NodeJS.ErrnoException) => new Error(`mapped ${error.code}`);

describe('waitForConnection', () => {
  it('hands the socket back once connected, without the listeners it added', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const errorListeners = socket.listenerCount('error');
    const ready = await waitForConnection(socket, { description: 'here', readyOn: 'connect', timeoutMs: 5000, failure });
    expect(ready).toBe(socket);
    expect(socket.listenerCount('error')).toBe(errorListeners);
    expect(socket.listenerCount('connect')).toBe(0);
    socket.destroy();
  });

  it('a socket error before that is the caller’s typed error, and the socket is destroyed', async () => {
    // The error is raised by hand: a port freed to be refused may be another test file's panel by then.
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    const waiting = waitForConnection(socket, { description: 'here', readyOn: 'secureConnect', timeoutMs: 60_000, failure });
    socket.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await expect(waiting).rejects.toThrow('mapped ECONNREFUSED');
    expect(socket.destroyed).toBe(true);
  });

  it('no handshake by the deadline: E_TIMEOUT naming the peer, and the socket is destroyed', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    const error = await waitForConnection(socket, { description: 'tls://silent', readyOn: 'secureConnect', timeoutMs: 50, failure }).catch((e) => e);
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: ExitCode.unreachable, message: 'cannot reach tls://silent: no connection within 50 ms' });
    expect(socket.destroyed).toBe(true);
  });

  it('Ctrl-C, before or during the attempt: E_ABORTED, and the socket is destroyed', async () => {
    const before = new AbortController();
    before.abort();
    const early = net.connect({ host: '127.0.0.1', port });
    await expect(waitForConnection(early, { description: 'here', readyOn: 'connect', timeoutMs: 5000, signal: before.signal, failure })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
    expect(early.destroyed).toBe(true);
    const during = new AbortController();
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    const waiting = waitForConnection(socket, { description: 'here', readyOn: 'secureConnect', timeoutMs: 60_000, signal: during.signal, failure });
    during.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(socket.destroyed).toBe(true);
  });

  it('a refusal when ready fails the attempt and destroys the socket', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const refusal = () => new Error('not the pinned certificate');
    await expect(waitForConnection(socket, { description: 'here', readyOn: 'connect', timeoutMs: 5000, failure, refusal })).rejects.toThrow(
      'not the pinned certificate',
    );
    expect(socket.destroyed).toBe(true);
  });
});
