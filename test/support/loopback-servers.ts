import { afterAll } from 'vitest';
import type net from 'node:net';

/**
 * Servers of one test file on loopback ports, closed after the file's tests with every connection they still hold
 * (a server closes only once its last socket has). Call it at the top of the file, then `listen` in beforeAll:
 *
 *   const loopback = loopbackServers();
 *   beforeAll(async () => { port = await loopback.listen(http.createServer(handler)); });
 */
export function loopbackServers(): { listen(server: net.Server): Promise<number> } {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    async listen(server) {
      servers.push(server);
      server.on('connection', (socket: net.Socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as net.AddressInfo).port;
    },
  };
}
