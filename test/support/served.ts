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
export function servedSimulators(): { serve(sim: Servable): Promise<number> } {
  const servers: TcpServerHandle[] = [];
  const sims: Servable[] = [];
  afterAll(async () => {
    for (const server of servers.splice(0)) await server.close();
    for (const sim of sims.splice(0)) await sim.close();
  });
  return {
    async serve(sim) {
      const server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
      servers.push(server);
      sims.push(sim);
      return server.port;
    },
  };
}
