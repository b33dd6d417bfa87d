import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MapEndpoint, type MapSimulator, createSimulator, DEMO_PASSWORD, DEMO_USER } from '../../drivers/map5000/simulator.js';
import { type CliResult, type Sandbox, makeSandbox, startCli, waitFor } from '../support/cli.js';
import { freshDatabase, postgresMissing } from '../support/postgres.js';

/**
 * "Negative response codes caused by overload require a 60 seconds communication delay" (MAP 5000
 * README, General client requests): a panelctl process that ended in that back-off (three 503s, exit 4)
 * hands it to the next process on the panel, on this machine (the files store) and on the desk (team
 * store), which sends nothing before it ends. The back-off is 2.5 s here (overloadBackoffMs), far longer
 * than a panelctl start-up, so a second process that only waited the 1 s-style interval would ask too
 * soon. The times compared are the simulator's own, of requests it received.
 */

const BACKOFF_MS = 2500;

let sim: MapSimulator;
let endpoint: MapEndpoint;

const inventory = () =>
  [
    'panels:',
    '  oslo:',
    '    driver: map5000',
    `    link: ${endpoint.url}`,
    `    tls: { fingerprint: "${endpoint.fingerprint}" }`,
    `    options: { user: ${DEMO_USER}, requestIntervalMs: 100, overloadBackoffMs: ${BACKOFF_MS} }`,
    '    secrets: { password: env:MAP_PASSWORD }',
    '',
  ].join('\n');

beforeAll(async () => {
  sim = await createSimulator({ users: 3, options: { intervalMs: 100 } });
  endpoint = await sim.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await sim?.close();
});

/**
 * The first run gets 503 three times (it retries twice after the back-off, then exits 4); the second,
 * started at once, must send its first request no sooner than the back-off after the last 503.
 */
async function overloadThenNext(first: () => Promise<CliResult>, second: () => Promise<CliResult>): Promise<void> {
  sim.model.faults.busyReplies = 3;
  const start = sim.model.log.length;
  const overloaded = await first();
  expect(overloaded.code, overloaded.stderr).toBe(4);
  expect(overloaded.stderr).toMatch(/overloaded \(HTTP 503\)/);
  const firstRequests = sim.model.log.slice(start);
  expect(firstRequests.map((entry) => entry.status)).toEqual([503, 503, 503]);
  const lastOverload = firstRequests[2].at;

  const next = sim.model.log.length;
  const after = await second();
  expect(after.code, after.stderr).toBe(0);
  const nextRequests = sim.model.log.slice(next);
  expect(nextRequests.map((entry) => entry.status)).toEqual([401, 200]);
  expect(nextRequests[0].at - lastOverload).toBeGreaterThanOrEqual(BACKOFF_MS);
  // Said on stderr, with the time it waits until (a script's log shows why the command took longer).
  expect(after.stderr).toMatch(/oslo asked for 2\.5 s without requests after an overload; waiting until .+ before the first request \(Ctrl-C to stop\)/);
}

describe('MAP 5000 overload back-off carried to the next panelctl process', () => {
  it('files store: the process after one that ended in the back-off sends nothing before it ends', async () => {
    const sandbox: Sandbox = await makeSandbox();
    try {
      await sandbox.writeInventory(inventory());
      const env = { MAP_PASSWORD: DEMO_PASSWORD };
      const list = () => sandbox.run(['users', 'list', '--panel', 'oslo'], { env });
      await overloadThenNext(list, list);
    } finally {
      await sandbox.cleanup();
    }
  });

  it('Ctrl-C during the wait ends the command (exit 130) with nothing sent, and the next one still waits out the rest', async () => {
    const sandbox: Sandbox = await makeSandbox();
    try {
      await sandbox.writeInventory(inventory());
      const env = { ...sandbox.env, MAP_PASSWORD: DEMO_PASSWORD };
      sim.model.faults.busyReplies = 3;
      const start = sim.model.log.length;
      expect((await sandbox.run(['users', 'list', '--panel', 'oslo'], { env })).code).toBe(4);
      const lastOverload = sim.model.log[sim.model.log.length - 1].at;
      expect(sim.model.log.length - start).toBe(3);

      const waiting = startCli(['users', 'list', '--panel', 'oslo'], env, '');
      await waitFor(() => waiting.stderr().includes('(Ctrl-C to stop)'), waiting.stderr);
      waiting.child.kill('SIGINT');
      expect(await waiting.exited, waiting.stderr()).toBe(130);
      expect(sim.model.log.length - start).toBe(3);

      const next = sim.model.log.length;
      const after = await sandbox.run(['users', 'list', '--panel', 'oslo'], { env });
      expect(after.code, after.stderr).toBe(0);
      expect(after.stderr).toMatch(/waiting until/);
      expect(sim.model.log[next].at - lastOverload).toBeGreaterThanOrEqual(BACKOFF_MS);
    } finally {
      await sandbox.cleanup();
    }
  });

  describe.skipIf(postgresMissing)('team store', () => {
    it("another engineer's process after one that ended in the back-off sends nothing before it ends", async () => {
      const url = await freshDatabase('backoff');
      const anna = await makeSandbox();
      const bob = await makeSandbox();
      try {
        await anna.writeInventory(inventory());
        await bob.writeInventory(inventory());
        const env = (who: string) => ({ PANELCTL_STATE: url, PANELCTL_OPERATOR: who, MAP_PASSWORD: DEMO_PASSWORD });
        const migrate = await anna.run(['state', 'migrate'], { env: env('anna') });
        expect(migrate.code, migrate.stderr).toBe(0);
        await overloadThenNext(
          () => anna.run(['users', 'list', '--panel', 'oslo'], { env: env('anna') }),
          () => bob.run(['users', 'list', '--panel', 'oslo'], { env: env('bob') }),
        );
      } finally {
        await anna.cleanup();
        await bob.cleanup();
      }
    });
  });
});
