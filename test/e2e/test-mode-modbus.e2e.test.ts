import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator } from '../../drivers/modbus/simulator.js';
import { BIN, waitFor } from '../support/cli.js';
import { testModeRig } from '../support/test-mode-rig.js';

/**
 * Test mode on a panel that has one: the Modbus simulator's walk test (coil 0, a duration
 * register in seconds, a status register) with a real webhook station. Both halves must start
 * in order, end together, and disagree visibly when the panel ends its own test.
 */

const rig = testModeRig();
const { events, leaseFiles } = rig;
type Sim = Awaited<ReturnType<typeof createSimulator>>;
let sim: Sim;
let server: { port: number; close(): Promise<void> };
/** A device whose profile gives the walk test a one-register duration in seconds. */
let shortSim: Sim;
let shortServer: { port: number; close(): Promise<void> };

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => rig.sandbox.run(args, { env: { STATION_KEY: rig.station.key, ...env } });
/** Switches the walk test from outside panelctl, as someone at the device would (write coil 0). */
const setCoil = (on: boolean) => sim.execute(Buffer.from([0x05, 0x00, 0x00, on ? 0xff : 0x00, 0x00]));

beforeAll(async () => {
  sim = await createSimulator({ users: 3, options: { profile: 'demo-modbus' } });
  server = await sim.listenTcp();
  // The demo profile with a one-register duration in seconds: at most 65,535 s (18 h 12 min), under panelctl's 24 h.
  const shortProfile = path.join(rig.sandbox.dir, 'short-timer.yaml');
  const shipped = await fs.readFile(path.join(import.meta.dirname, '../../drivers/modbus/profiles/demo-modbus.yaml'), 'utf8');
  await fs.writeFile(shortProfile, shipped.replace(/duration: \{ address: 201, registers: 2,/, 'duration: { address: 201, registers: 1,'));
  shortSim = await createSimulator({ users: 1, options: { profile: shortProfile } });
  shortServer = await shortSim.listenTcp();
  await rig.sandbox.writeInventory(`defaults:
  station: { type: webhook, url: ${rig.station.url}, secret: env:STATION_KEY }
panels:
  gate:
    driver: modbus
    link: tcp://127.0.0.1:${server.port}
    options: { profile: demo-modbus, unit: 1 }
    account: "5150"
  short-timer:
    driver: modbus
    link: tcp://127.0.0.1:${shortServer.port}
    options: { profile: ${JSON.stringify(shortProfile)}, unit: 1 }
    account: "5151"
`);
});

afterAll(async () => {
  await server.close();
  await sim.close();
  await shortServer.close();
  await shortSim.close();
});

beforeEach(async () => {
  sim.setFaults({ latencyMs: 0, dropReplies: 0, exceptionCode: 0, exceptionCount: 0 });
  if (sim.testModeActive) setCoil(false);
});

describe('test-mode on a Modbus panel', () => {
  it('tells the station, then starts the walk test; stop ends the panel, then the station', async () => {
    const start = await run(['test-mode', 'start', '--panel', 'gate', '--for', '30m', '-o', 'json']);
    expect(start.code, start.stderr).toBe(0);
    expect(JSON.parse(start.stdout)).toMatchObject({
      panelSwitched: true,
      panelState: { active: true, mode: 'walk test' },
      lease: { panelTest: 'on', stationOnTest: true },
    });
    expect(sim.testModeActive).toBe(true);
    expect(events()).toEqual(['test.start']);

    const status = await run(['test-mode', 'status', '--check', '-o', 'json']);
    expect(JSON.parse(status.stdout).leases[0]).toMatchObject({ panel: 'gate', panelState: { active: true }, conflict: null });

    const stop = await run(['test-mode', 'stop', '--panel', 'gate']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it("--for longer than the profile's duration register holds is exit 2 before the station or the panel hears anything", async () => {
    const connections = shortSim.stats.connections;
    const start = await run(['test-mode', 'start', '--panel', 'short-timer', '--for', '20h', '-o', 'json']);
    expect(start.code, start.stderr).toBe(2);
    expect(events()).toEqual([]);
    expect(shortSim.stats.connections).toBe(connections);
    expect(JSON.parse(start.stderr).error).toMatchObject({
      errorCode: 'E_INVALID',
      field: '--for',
      rule: expect.stringMatching(/at most 18h 12m 15s on short-timer: .*65535 seconds \(profile short-timer\)/),
    });
    expect(await leaseFiles()).toEqual([]);
    // Within it, the same panel starts (so the refusal is the register's limit, not the profile).
    const fits = await run(['test-mode', 'start', '--panel', 'short-timer', '--for', '18h']);
    expect(fits.code, fits.stderr).toBe(0);
    expect(shortSim.testModeActive).toBe(true);
    expect((await run(['test-mode', 'stop', '--panel', 'short-timer'])).code).toBe(0);
    expect(events()).toEqual(['test.start', 'test.stop']);
  });

  it('a station answering 500 leaves the panel untouched', async () => {
    rig.station.status = 500;
    const writes = sim.stats.writes;
    const start = await run(['test-mode', 'start', '--panel', 'gate', '--for', '30m']);
    expect(start.code).toBe(3);
    expect(sim.testModeActive).toBe(false);
    expect(sim.stats.writes).toBe(writes);
    expect(await leaseFiles()).toEqual([]);
  });

  it('a panel that refuses its test mode has the station notice rolled back', async () => {
    sim.setFaults({ exceptionCode: 4, exceptionCount: 5, exceptionOn: 'write' });
    const start = await run(['test-mode', 'start', '--panel', 'gate', '--for', '30m']);
    expect(start.code).not.toBe(0);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(rig.station.notices[0].lease).toBe(rig.station.notices[1].lease);
    expect(await leaseFiles()).toEqual([]);
  });

  it('a start whose answer is lost checks the panel before the station is taken off test', async () => {
    rig.station.onNotice = (n) => n.event === 'test.start' && sim.setFaults({ dropReplies: 1 }); // the panel's next answer is lost
    const start = await run(['test-mode', 'start', '--panel', 'gate', '--for', '30m', '--timeout', '700ms']);
    expect(start.code).toBe(4);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it('when the panel cannot be confirmed off after a failed start, the station stays on test and the lease says why', async () => {
    // After the station says yes, the panel stops answering at all.
    rig.station.onNotice = (n) => n.event === 'test.start' && sim.setFaults({ dropReplies: 1000 });
    const start = await run(['test-mode', 'start', '--panel', 'gate', '--for', '30m', '--timeout', '500ms']);
    rig.station.onNotice = undefined;
    sim.setFaults({ dropReplies: 0 });
    expect(start.code).toBe(4);
    expect(events()).toEqual(['test.start']);
    const status = await run(['test-mode', 'status', '-o', 'json']);
    const [lease] = JSON.parse(status.stdout).leases;
    expect(lease).toMatchObject({ panel: 'gate', stationOnTest: true });
    expect(lease.problem).toMatch(/could not be confirmed off either; the station stays on test/);
    // Once the panel answers again, stop ends both halves.
    const stop = await run(['test-mode', 'stop', '--panel', 'gate']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it("shows the conflict when the panel's own test mode has timed out, and the sweep ends the station's", async () => {
    expect((await run(['test-mode', 'start', '--panel', 'gate', '--for', '2s'])).code).toBe(0);
    expect(sim.testModeActive).toBe(true);
    await new Promise((r) => setTimeout(r, 2300));
    expect(sim.testModeActive).toBe(false); // the device ended it by itself

    const status = await run(['test-mode', 'status', '--check', '-o', 'json']);
    const [lease] = JSON.parse(status.stdout).leases;
    expect(lease).toMatchObject({ panel: 'gate', overdue: true, panelTest: 'on', panelState: { active: false } });
    expect(lease.conflict).toMatch(/the lease says the panel is on test but the panel is not/);
    const table = await run(['test-mode', 'status', '--check']);
    expect(table.stdout).toMatch(/gate .*OVERDUE.*on \(panel: off\).*the lease says/);

    const sweep = await run(['test-mode', 'sweep', '-o', 'json']);
    expect(JSON.parse(sweep.stdout).swept).toEqual([expect.objectContaining({ panel: 'gate', outcome: 'ended' })]);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it('finds a panel on test that no lease knows about', async () => {
    setCoil(true);
    expect(sim.testModeActive).toBe(true);
    const status = await run(['test-mode', 'status', '--all', '--check', '-o', 'json']);
    expect(JSON.parse(status.stdout).leases).toEqual([
      expect.objectContaining({ panel: 'gate', lease: null, conflict: 'the panel is on test but no lease says so' }),
    ]);
    // stop ends what it finds on the panel even without a lease; the station was never told, so it is not told now.
    const stop = await run(['test-mode', 'stop', '--panel', 'gate']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual([]);
  });

  it('--wait ends both halves on SIGINT', async () => {
    const { child, output, exited } = startWaiting(['--for', '30m']);
    await waitFor(() => /waiting until/.test(output()), output);
    expect(sim.testModeActive).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it('--wait reconnects to end the test when the panel stops answering', async () => {
    const { output, exited } = startWaiting(['--for', '30m', '--timeout', '700ms'], { PANELCTL_TEST_POLL_MS: '300' });
    await waitFor(() => /waiting until/.test(output()), output);
    sim.setFaults({ dropReplies: 1 }); // the next poll goes unanswered
    expect(await exited).toBe(0);
    expect(output()).toMatch(/lost the panel \(.*\); reconnecting to end the test/);
    expect(output()).toMatch(/gate is off test/);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual(['test.start', 'test.stop']);
  });
});

function startWaiting(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, 'test-mode', 'start', '--panel', 'gate', '--wait', ...args], {
    env: { ...rig.sandbox.env, STATION_KEY: rig.station.key, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}
