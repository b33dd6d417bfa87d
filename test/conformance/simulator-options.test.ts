import { describe, expect, it } from 'vitest';
import { drivers } from '../../drivers/index.js';
import { DEMO_USER } from '../../drivers/map5000/simulator.js';
import type { DriverOptions, PanelSession, SimulatorModule, SimulatorOptions } from '../../src/core/contract.js';
import { Secret } from '../../src/core/secret.js';
import { serveSimulator } from '../../src/transport/serve.js';

/**
 * `panelctl sim` refuses a `--set` name that is not in the simulator's `simulatorOptions` (src/cli/actions/sim.ts), so
 * the list must name exactly the options createSimulator reads: one it reads but does not list cannot be set from the
 * CLI, and one it lists but no longer reads is accepted and silently ignored. Every simulator in the registry (a new
 * driver included) is created with a recording proxy as its options and the names it reads are compared with the list.
 * A name read only once the panel is spoken to (INTEGRA's `prefix`) is looked for in one real session of the driver
 * (a name read only on some other path, a fault or a menu the session does not reach, is beyond this test).
 */

/** Option names the simulator reads through `options.options`, and whether it enumerated them (which hides what it reads). */
function recordingOptions(base: SimulatorOptions) {
  const read = new Set<string>();
  let enumerated = false;
  const options = new Proxy({} as NonNullable<SimulatorOptions['options']>, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
    has(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
  return { simulatorOptions: { ...base, options }, read, enumerated: () => enumerated };
}

/** One request that reaches the panel: the first slot read, or the test-mode status. */
async function askOnce(session: PanelSession, firstSlot: number): Promise<void> {
  if (session.reader) await session.reader.readUser(firstSlot);
  else if (session.testMode) await session.testMode.status();
  else throw new Error('the session has no reader and no test mode: give this test a request that reaches the panel');
}

/** Inventory options a driver cannot open a session without, for its simulator's defaults (a driver missing here fails loudly). */
const sessionOptions: Record<string, DriverOptions> = {
  modbus: { profile: 'demo-modbus' },
  map5000: { user: DEMO_USER },
};

/** Reads while serving one session of the driver against the simulator (the names a simulator reads only when spoken to). */
async function readsDuringASession(name: string, module: SimulatorModule): Promise<Set<string>> {
  const recording = recordingOptions({ users: 2, servedOn: 'tcp' });
  const sim = await module.createSimulator(recording.simulatorOptions);
  const served = await serveSimulator(sim, { tcp: { host: '127.0.0.1', port: 0 } });
  const driver = await drivers.load(name);
  const secrets = Object.fromEntries(Object.entries(sim.demoSecrets()).map(([key, value]) => [key, new Secret(value)]));
  const options = sessionOptions[name] ?? {};
  const info = driver.describeFor ? await driver.describeFor(options) : driver.describe();
  const session = await driver.open({ link: served.link, secrets, options, timeoutMs: 3000 });
  try {
    await askOnce(session, info.slotRanges[0].from);
  } finally {
    await session.close();
    await served.close();
    await sim.close();
  }
  return recording.read;
}

describe('each simulator lists exactly the --set options it reads', () => {
  it('the registry has drivers to check', () => {
    expect(drivers.names.length).toBeGreaterThan(0);
  });

  for (const name of drivers.names) {
    it(`${name}: simulatorOptions names what createSimulator reads, no more, no less`, async () => {
      const module = await drivers.loadSimulator(name);
      const listed = module.simulatorOptions;
      // Without a list `panelctl sim` takes any name, a typo included, and ignores it.
      expect(listed, `drivers/${name}/simulator.ts exports no simulatorOptions`).toBeDefined();
      const read = new Set<string>();
      // A simulator picks its mode from where it is served: read on both, so a serial-only option counts.
      for (const servedOn of ['tcp', 'serial'] as const) {
        const recording = recordingOptions({ users: 2, servedOn });
        const sim = await module.createSimulator(recording.simulatorOptions);
        sim.demoSecrets();
        await sim.close();
        expect(recording.enumerated(), `the ${name} simulator enumerates its options: read them by name so the list can be checked`).toBe(false);
        for (const key of recording.read) read.add(key);
      }
      for (const key of await readsDuringASession(name, module)) read.add(key);
      expect([...read].sort(), `the options the ${name} simulator reads`).toEqual([...(listed ?? [])].sort());
    });
  }
});
