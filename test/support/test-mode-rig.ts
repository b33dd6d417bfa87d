import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { makeSandbox, type Sandbox } from './cli.js';
import { type FakeStation, startStation } from './station.js';

/**
 * What every test-mode end-to-end file needs around its panels: a webhook station and a sandbox, both closed after
 * the file. Before each test the station answers 200 at once again and has seen no notice, and no lease is left on
 * disk, so a test never sees another's. Call it at the top of the file (it registers the hooks, which run before
 * the file's own), then read `rig.station` and `rig.sandbox` inside hooks and tests.
 */
export interface TestModeRig {
  readonly station: FakeStation;
  readonly sandbox: Sandbox;
  /** The station's notices seen so far, by event ("test.start", "test.stop"). */
  events(): string[];
  /** The lease files on disk (what test mode still holds). */
  leaseFiles(): Promise<string[]>;
}

export function testModeRig(): TestModeRig {
  let station: FakeStation | undefined;
  let sandbox: Sandbox | undefined;
  const rig: TestModeRig = {
    get station() {
      if (!station) throw new Error('testModeRig: the station starts in beforeAll');
      return station;
    },
    get sandbox() {
      if (!sandbox) throw new Error('testModeRig: the sandbox is made in beforeAll');
      return sandbox;
    },
    events: () => rig.station.notices.map((n) => n.event),
    leaseFiles: async () => (await fs.readdir(path.join(rig.sandbox.stateDir, 'leases')).catch(() => [] as string[])).filter((f) => f.endsWith('.json')),
  };
  beforeAll(async () => {
    station = await startStation();
    sandbox = await makeSandbox();
  });
  afterAll(async () => {
    await station?.close();
    await sandbox?.cleanup();
  });
  beforeEach(async () => {
    Object.assign(rig.station, {
      status: 200,
      delayMs: {},
      redirect: undefined,
      errorBodyBytes: 0,
      errorBodyWritten: 0,
      clockOffsetMs: 0,
      onNotice: undefined,
    });
    rig.station.notices.length = 0;
    await fs.rm(path.join(rig.sandbox.stateDir, 'leases'), { recursive: true, force: true });
  });
  return rig;
}
