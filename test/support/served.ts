import { afterAll } from 'vitest';
import type { ByteStream } from '../../src/transport/index.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';

/** What the shipped simulators (and the bulk tests' fake panels) have in common: they take a stream and close. */
export interface Servable {
  accept(stream: ByteStream): void;
  close(): Promise<void>;
}

/**
 * Simulators served on real loopback TCP sockets for one test file, every server and then every simulator closed
 * after the file's tests. Call it at the top of the file (it registers the afterAll), then `serve` in beforeAll:
 *
 *   const simulators = servedSimulators();
 *   beforeAll(async () => { port = await simulators.serve(await createSimulator({ users: 3 })); });
 */
export function servedSimulators(): {
  serve(sim: Servable): Promise<number>;
  /** Connections the simulator on `port` accepted since it was served or the counts were reset: did the CLI contact it? */
  contacts(port: number): number;
  resetContacts(): void;
} {
  const servers: TcpServerHandle[] = [];
  const sims: Servable[] = [];
  const contacts = new Map<number, number>();
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const sim of sims.splice(0)) await sim.close();
  });
  return {
    async serve(sim) {
      let port = 0;
      const server = await serveTcp('127.0.0.1', 0, (stream) => {
        contacts.set(port, (contacts.get(port) ?? 0) + 1);
        sim.accept(stream);
      });
      port = server.port;
      servers.push(server);
      sims.push(sim);
      return port;
    },
    contacts: (port) => contacts.get(port) ?? 0,
    resetContacts: () => contacts.clear(),
  };
}
