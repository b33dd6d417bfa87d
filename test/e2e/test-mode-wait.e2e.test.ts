import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import { createSimulator } from '../../drivers/modbus/simulator.js';
import { BIN, waitFor } from '../support/cli.js';
import { testModeRig } from '../support/test-mode-rig.js';
import { haveSocat, makePtyPair } from '../support/pty-pair.js';
import { startSerialSim } from '../support/serial-sim.js';
import { KEY, TtySession } from '../support/tty.js';
import { FileWorkLocks } from '../../src/state/work-locks.js';

/**
 * `test-mode start --wait` when the link goes away (issue 13, item 6): it never exits 0 with a
 * test on. It keeps trying until the window's end plus a grace period (PANELCTL_TEST_GRACE_MS
 * here, 5 minutes by default), then exits 4 with a red message naming what is still on.
 */

const rig = testModeRig();
const { events, leaseFiles } = rig;
type Sim = Awaited<ReturnType<typeof createSimulator>>;
let sim: Sim;
let simServer: { port: number; close(): Promise<void> };
let cable: Cable;

/** A TCP hop that can be "unplugged": existing connections die and new ones are dropped. */
interface Cable {
  port: number;
  pull(): void;
  plugIn(): void;
  close(): Promise<void>;
}

async function startCable(targetPort: number): Promise<Cable> {
  let pulled = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (pulled) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    pull() {
      pulled = true;
      for (const s of sockets) s.destroy();
    },
    plugIn() {
      pulled = false;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function startWaiting(panel: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, 'test-mode', 'start', '--panel', panel, '--wait', ...args], {
    env: { ...rig.sandbox.env, STATION_KEY: rig.station.key, PANELCTL_TEST_POLL_MS: '300', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

beforeAll(async () => {
  sim = await createSimulator({ users: 3, options: { profile: 'demo-modbus' } });
  simServer = await sim.listenTcp();
  cable = await startCable(simServer.port);
  await rig.sandbox.writeInventory(`defaults:
  station: { type: webhook, url: ${rig.station.url}, secret: env:STATION_KEY }
panels:
  gate:
    driver: modbus
    link: tcp://127.0.0.1:${cable.port}
    options: { profile: demo-modbus, unit: 1 }
    account: "5150"
`);
});

afterAll(async () => {
  await cable.close();
  await simServer.close();
  await sim.close();
});

beforeEach(async () => {
  cable.plugIn();
  if (sim.testModeActive) sim.execute(Buffer.from([0x05, 0x00, 0x00, 0x00, 0x00]));
});

describe('--wait with the link gone', () => {
  it('keeps trying past the window, then exits 4 naming what is still on, and keeps the lease', async () => {
    const { output, exited } = startWaiting('gate', ['--for', '3s', '--timeout', '500ms'], { PANELCTL_TEST_GRACE_MS: '1500' });
    await waitFor(() => /waiting until/.test(output()), output);
    cable.pull();
    expect(await exited).toBe(4);
    expect(output()).toMatch(/could not end test mode on gate yet .*trying again/);
    expect(output()).toMatch(/TEST MODE IS STILL ON for gate: the panel's walk test and the station's test for account 5150 \(webhook\)/);
    expect(output()).toMatch(/End it with `panelctl test-mode stop --panel gate`/);
    expect(await leaseFiles()).toEqual(['gate.json']);
    expect(events()).toEqual(['test.start']);

    cable.plugIn();
    const stop = await rig.sandbox.run(['test-mode', 'stop', '--panel', 'gate'], { env: { STATION_KEY: rig.station.key } });
    expect(stop.code, stop.stderr).toBe(0);
    expect(sim.testModeActive).toBe(false);
  });

  it('SIGTERM while the panel is unreachable: keeps trying, ends both halves when it is back, exits 143', async () => {
    const { child, output, exited } = startWaiting('gate', ['--for', '30m', '--timeout', '500ms']);
    await waitFor(() => /waiting until/.test(output()), output);
    cable.pull();
    child.kill('SIGTERM');
    await waitFor(() => /could not end test mode on gate yet/.test(output()), output);
    cable.plugIn();
    expect(await exited).toBe(143);
    expect(output()).toMatch(/gate is off test/);
    expect(sim.testModeActive).toBe(false);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it('a second SIGTERM while retrying gives up at once: exit 4, the lease stays', async () => {
    const { child, output, exited } = startWaiting('gate', ['--for', '30m', '--timeout', '500ms']);
    await waitFor(() => /waiting until/.test(output()), output);
    cable.pull();
    child.kill('SIGTERM');
    await waitFor(() => /could not end test mode on gate yet/.test(output()), output);
    child.kill('SIGTERM');
    expect(await exited).toBe(4);
    expect(output()).toMatch(/TEST MODE IS STILL ON for gate/);
    expect(await leaseFiles()).toEqual(['gate.json']);
  });
});

describe('--wait while another panelctl talks to the panel', () => {
  it('a poll refused by the panel work lock is not a lost panel: the test stays on', async () => {
    const { child, output, exited } = startWaiting('gate', ['--for', '30m', '--timeout', '500ms']);
    await waitFor(() => /waiting until/.test(output()), output);
    // As a technician's `users list` on the same panel would hold it.
    const held = await new FileWorkLocks(rig.sandbox.stateDir).acquire(`modbus|tcp://127.0.0.1:${cable.port}|1`, { panel: 'gate', command: 'users list' });
    await waitFor(() => /gate is busy \(.*in use by another panelctl.*\); the test stays on/.test(output()), output);
    const connections = sim.stats.connections;
    await held.release();
    await waitFor(() => sim.stats.connections > connections, output);
    expect(output()).not.toMatch(/lost the panel/);
    expect(sim.testModeActive).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(events()).toEqual(['test.start', 'test.stop']);
  });
});

describe('--wait on a terminal', () => {
  it('polls the panel under the countdown without a second spinner', async () => {
    const t = new TtySession(['test-mode', 'start', '--panel', 'gate', '--for', '20m', '--wait'], {
      ...rig.sandbox.env,
      STATION_KEY: rig.station.key,
      PANELCTL_TEST_POLL_MS: '300',
    });
    try {
      await t.expect(/gate on test: .* left/);
      const polls = sim.stats.connections;
      // A few polls (each a full connect and status read) under the countdown.
      await waitFor(
        () => sim.stats.connections >= polls + 3,
        () => t.text,
      );
      t.send(KEY.ctrlC);
      await t.expect(/gate is off test/);
      expect((await t.exit()).exitCode).toBe(130);
    } finally {
      t.kill();
    }
    expect(t.text).not.toMatch(/Multiple concurrent spinners/);
  });
});

describe.skipIf(!haveSocat)('--wait on a serial link', () => {
  it('an unplugged adapter (the device node vanishes) is noticed at once, not at the next poll', async () => {
    const pty = await makePtyPair();
    const serialSim = await startSerialSim('modbus', pty.a, ['--users', '3'], rig.sandbox.env);
    try {
      await rig.sandbox.writeInventory(
        (await fs.readFile(rig.sandbox.env.PANELCTL_INVENTORY as string, 'utf8')) +
          `  bench:\n    driver: modbus\n    link: serial://${pty.b}\n    options: { profile: demo-modbus, unit: 1 }\n    account: "5151"\n`,
      );
      // The default poll (30 s) is longer than waitFor's patience: only the device check can see it.
      const { child, output, exited } = startWaiting('bench', ['--for', '30m', '--timeout', '500ms'], { PANELCTL_TEST_POLL_MS: '' });
      await waitFor(() => /waiting until/.test(output()), output);
      await pty.close();
      await waitFor(() => /serial device \/dev\/pts\/\d+ is gone/.test(output()), output);
      child.kill('SIGINT');
      expect(await exited).toBe(4);
      expect(output()).toMatch(/TEST MODE IS STILL ON for bench/);
    } finally {
      await serialSim.stop();
      await pty.close();
    }
  });
});
