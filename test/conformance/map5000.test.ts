import { DEMO_USER, createSimulator } from '../../drivers/map5000/simulator.js';
import { type RunningSimulator, driverContract } from '../support/driver-contract.js';

/**
 * Bosch MAP 5000 over HTTPS: the simulator pins its own certificate in the link, so the suite's TCP relay passes TLS
 * through untouched. Pacing is 50 ms here (the simulator's interval matches) so the suite runs in seconds. The
 * refused-credential case is not counted on the wire (TLS hides it, and digest never sends the password):
 * test/e2e/map5000.e2e.test.ts checks it on the simulator's request log instead.
 */
driverContract('map5000', {
  async start(): Promise<RunningSimulator> {
    const sim = await createSimulator({ users: 3, options: { intervalMs: 50 } });
    const endpoint = await sim.listen('127.0.0.1', 0);
    return {
      link: endpoint.link,
      inventory: { tls: { fingerprint: endpoint.fingerprint } },
      secrets: sim.demoSecrets(),
      async close() {
        await endpoint.close();
        await sim.close();
      },
    };
  },
  options: { user: DEMO_USER, requestIntervalMs: 60, overloadBackoffMs: 100 },
  slot: 50,
  name: 'Conformance',
  codes: ['739154', '846213'],
});
