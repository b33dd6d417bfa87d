import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { servedSimulators } from '../support/served.js';
import { BIN, waitFor } from '../support/cli.js';
import { testModeRig } from '../support/test-mode-rig.js';

/**
 * Stations that answer late, redirect, flood, or run long, through the real binary (issue 13
 * item 7, issue 14 items 4, 5, 13): a notice the station may have received is never forgotten,
 * and a station can neither pull a notice elsewhere nor eat panelctl's memory.
 */

const rig = testModeRig();
const { events, leaseFiles } = rig;
let sim: Awaited<ReturnType<typeof createSimulator>>;
let port: number;
const simulators = servedSimulators();

const panel = (name: string, account: string, stationYaml: string) =>
  `  ${name}:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:SHOP_CODE\n    account: "${account}"\n    station: ${stationYaml}\n`;

function inventory(extra = ''): string {
  return `stations:
  central:
    type: webhook
    url: ${rig.station.url}
    secret: env:STATION_KEY
    timeoutMs: 600
panels:
${panel('shop', '4711', 'central')}${extra}`;
}

const env = () => ({ STATION_KEY: rig.station.key, SHOP_CODE: '1111' });
const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => rig.sandbox.run(args, { env: { ...env(), ...extraEnv } });
const statusJson = async () => JSON.parse((await run(['test-mode', 'status', '-o', 'json'])).stdout);

beforeAll(async () => {
  sim = await createSimulator({ users: 3 });
  port = await simulators.serve(sim);
});

afterAll(async () => {});

beforeEach(async () => {
  await rig.sandbox.writeInventory(inventory());
});

describe('a station that answers after the timeout', () => {
  it('a start answered late is taken back with a stop, and never called "nothing was switched"', async () => {
    rig.station.delayMs = { 'test.start': 1500 };
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '30m']);
    expect(start.code).toBe(4);
    expect(start.stderr).not.toMatch(/nothing was switched/);
    expect(start.stderr).toMatch(/sent test\.stop, which the station confirmed: nothing is on test/);
    await waitFor(
      () => events().length === 2,
      () => JSON.stringify(rig.station.notices),
    );
    expect(events().sort()).toEqual(['test.start', 'test.stop']);
    expect(rig.station.notices[0].lease).toBe(rig.station.notices[1].lease);
    expect(await leaseFiles()).toEqual([]);
  });

  it('when the stop is not confirmed either, the lease stays, shows as overdue, and sweep ends it', async () => {
    rig.station.delayMs = { 'test.start': 1500, 'test.stop': 1500 };
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '30m']);
    expect(start.code).toBe(4);
    expect(start.stderr).toMatch(/account 4711 may be ON TEST at the station\. The lease is kept/);
    expect(start.stderr).toMatch(/panelctl test-mode stop --panel shop/);
    const [lease] = (await statusJson()).leases;
    expect(lease).toMatchObject({
      panel: 'shop',
      stationOnTest: true,
      overdue: true,
      overdueReason: 'end-unconfirmed',
      notices: { start: { state: 'unanswered' }, stop: { state: 'unanswered' } },
    });
    const table = await run(['test-mode', 'status']);
    expect(table.stdout).toMatch(/shop .*OVERDUE/);
    const note = await run(['users', 'list', '--panel', 'shop']);
    expect(note.stderr).toMatch(/shop is still ON TEST: ending it was not confirmed \(the station did not answer test\.start/);

    rig.station.delayMs = {};
    const sweep = await run(['test-mode', 'sweep', '-o', 'json']);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(JSON.parse(sweep.stdout).swept).toMatchObject([{ panel: 'shop', outcome: 'ended' }]);
    expect(events().at(-1)).toBe('test.stop');
    expect(await leaseFiles()).toEqual([]);
  });

  it('a station command that records the notice and runs past timeoutMs keeps the lease until a stop is confirmed', async () => {
    const received = path.join(rig.sandbox.dir, 'slow-received.jsonl');
    const slowFlag = path.join(rig.sandbox.dir, 'slow.flag');
    const script = path.join(rig.sandbox.dir, 'slow-rig.station.mjs');
    await fs.writeFile(
      script,
      `import fs from 'node:fs';\nfs.appendFileSync(${JSON.stringify(received)}, fs.readFileSync(0, 'utf8') + '\\n');\nif (fs.existsSync(${JSON.stringify(slowFlag)})) setTimeout(() => {}, 5000);\n`,
    );
    await fs.writeFile(slowFlag, '');
    await rig.sandbox.writeInventory(inventory(panel('depot', '99', `{ type: command, command: ["${process.execPath}", "${script}"], timeoutMs: 500 }`)));
    const start = await run(['test-mode', 'start', '--panel', 'depot', '--for', '30m']);
    expect(start.code).toBe(4);
    expect(start.stderr).toMatch(/did not finish within 500 ms/);
    expect(start.stderr).not.toMatch(/nothing was switched/);
    const [lease] = (await statusJson()).leases;
    expect(lease).toMatchObject({ panel: 'depot', stationOnTest: true, overdue: true });

    await fs.rm(slowFlag);
    const stop = await run(['test-mode', 'stop', '--panel', 'depot']);
    expect(stop.code, stop.stderr).toBe(0);
    const lines = (await fs.readFile(received, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['test.start', 'test.stop', 'test.stop']);
    expect(new Set(lines.map((l) => l.lease)).size).toBe(1);
    expect(await leaseFiles()).toEqual([]);
  });
});

describe('webhook safety', () => {
  it('never follows a redirect with a notice: a 307 fails the start and names where it pointed', async () => {
    rig.station.redirect = { status: 307, location: 'http://127.0.0.1:9/elsewhere?token=abc' };
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m']);
    expect(start.code).toBe(3);
    expect(start.stderr).toMatch(/answered 307 redirecting to http:\/\/127\.0\.0\.1:9\/elsewhere; panelctl never follows a redirect/);
    expect(start.stderr).not.toContain('token=abc');
    expect(await leaseFiles()).toEqual([]);
  });

  it('refuses a webhook URL that is not https (file:, plain http to another host) when the inventory loads', async () => {
    for (const [url, rule] of [
      ['file:///etc/passwd', /station.*url.*must be an https:\/\/ URL \(file: is not accepted\)/],
      ['http://rig.station.example.com/n', /station.*url.*must be https:\/\/ \(http:\/\/ only to a loopback address, or with insecure: true/],
    ] as const) {
      await rig.sandbox.writeInventory(inventory(panel('far', '7', `{ type: webhook, url: "${url}", secret: env:STATION_KEY }`)));
      const start = await run(['test-mode', 'start', '--panel', 'far', '--for', '5m']);
      expect(start.code, start.stderr).toBe(2);
      expect(start.stderr).toMatch(rule);
    }
    await rig.sandbox.writeInventory(inventory(panel('far', '7', `{ type: webhook, url: "http://127.0.0.2:9/n", secret: env:STATION_KEY, insecure: true }`)));
    expect((await run(['panels'])).code).toBe(0);
  });

  it('reads only a small prefix of a huge error answer', async () => {
    rig.station.status = 500;
    rig.station.errorBodyBytes = 200 * 1024 * 1024;
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m']);
    expect(start.code).toBe(3);
    expect(start.stderr).toMatch(/answered 500: x{20}/);
    expect(rig.station.errorBodyWritten).toBeLessThan(32 * 1024 * 1024);
    expect(await leaseFiles()).toEqual([]);
  });

  it('a station clock more than 5 minutes off refuses the start before the station hears anything; 1 minute warns', async () => {
    rig.station.clockOffsetMs = 10 * 60_000;
    const refused = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/this machine's clock is 10 min behind the monitoring station's/);
    expect(refused.stderr).toMatch(/--ignore-clock-skew/);
    expect(rig.station.notices).toEqual([]);

    const forced = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m', '--ignore-clock-skew', '-o', 'json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).lease.stationSkewSeconds).toBeGreaterThan(590);
    expect((await run(['test-mode', 'stop', '--panel', 'shop'])).code).toBe(0);

    rig.station.clockOffsetMs = -60_000;
    const warned = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m']);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/warning: this machine's clock is (59|60|61) s ahead of the monitoring station's/);
    expect((await run(['test-mode', 'stop', '--panel', 'shop'])).code).toBe(0);
  });
});

describe('a station command gets a minimal environment', () => {
  it('only PATH, HOME, LANG, TZ, PANELCTL_STATION_EVENT and the variables named in rig.station.env', async () => {
    const seen = path.join(rig.sandbox.dir, 'station-env.json');
    const script = path.join(rig.sandbox.dir, 'env-rig.station.mjs');
    await fs.writeFile(script, `import fs from 'node:fs';\nfs.readFileSync(0);\nfs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify(process.env));\n`);
    await rig.sandbox.writeInventory(inventory(panel('depot', '99', `{ type: command, command: ["${process.execPath}", "${script}"], env: [STATION_SITE] }`)));
    const start = await run(['test-mode', 'start', '--panel', 'depot', '--for', '5m'], {
      LANG: 'C.UTF-8',
      TZ: 'Europe/Oslo',
      STATION_SITE: 'depot-7',
      AWS_SECRET_ACCESS_KEY: 'leak-me',
    });
    expect(start.code, start.stderr).toBe(0);
    const childEnv = JSON.parse(await fs.readFile(seen, 'utf8'));
    expect(Object.keys(childEnv).sort()).toEqual(['HOME', 'LANG', 'PANELCTL_STATION_EVENT', 'PATH', 'STATION_SITE', 'TZ']);
    expect(childEnv).toMatchObject({ STATION_SITE: 'depot-7', PANELCTL_STATION_EVENT: 'test.start' });
    expect(JSON.stringify(childEnv)).not.toContain('1111'); // SHOP_CODE, a panel credential
    expect((await run(['test-mode', 'stop', '--panel', 'depot'])).code).toBe(0);
  });

  it('refuses, at inventory load, a station env naming a variable that holds a panel credential', async () => {
    await rig.sandbox.writeInventory(inventory(panel('depot', '99', `{ type: command, command: ["/bin/true"], env: [SHOP_CODE] }`)));
    const start = await run(['test-mode', 'start', '--panel', 'depot', '--for', '5m']);
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/station\.env\.0.*SHOP_CODE holds a credential \(panels\.shop\.secret\); a station program is never given one/);
  });
});

describe('leases after a crash', () => {
  it('after SIGKILL during start, stop goes straight on (the lock died with its process) and ends the station', async () => {
    rig.station.delayMs = { 'test.start': 60_000 };
    const child = spawn(process.execPath, [BIN, 'test-mode', 'start', '--panel', 'shop', '--for', '30m'], {
      env: { ...rig.sandbox.env, ...env() },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await waitFor(
      () => events().includes('test.start'),
      () => JSON.stringify(rig.station.notices),
    );
    child.kill('SIGKILL');
    await exited;
    rig.station.delayMs = {};
    const stop = await run(['test-mode', 'stop', '--panel', 'shop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).not.toMatch(/another panelctl/);
    expect(events()).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it('a sweep killed while the station holds its stop is followed at once by the next sweep', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '1s'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    rig.station.delayMs = { 'test.stop': 60_000 };
    const child = spawn(process.execPath, [BIN, 'test-mode', 'sweep'], { env: { ...rig.sandbox.env, ...env() }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await waitFor(
      () => events().includes('test.stop'),
      () => JSON.stringify(rig.station.notices),
    );
    child.kill('SIGKILL');
    await exited;
    rig.station.delayMs = {};
    const [lease] = (await statusJson()).leases;
    expect(lease.notices.stop).toMatchObject({ state: 'sending', attempts: 1 });
    const sweep = await run(['test-mode', 'sweep', '-o', 'json']);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(JSON.parse(sweep.stdout).swept).toMatchObject([{ panel: 'shop', outcome: 'ended' }]);
    expect(await leaseFiles()).toEqual([]);
  });

  it('a lease whose stop the station already confirmed is removed without a second notice', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '30m'])).code).toBe(0);
    const file = path.join(rig.sandbox.stateDir, 'leases', 'shop.json');
    const lease = JSON.parse(await fs.readFile(file, 'utf8'));
    // As a run cut off between the station's yes and removing the lease leaves it.
    Object.assign(lease, {
      phase: 'stopping',
      stationOnTest: false,
      notices: { ...lease.notices, stop: { state: 'confirmed', at: new Date().toISOString(), attempts: 1 } },
    });
    await fs.writeFile(file, JSON.stringify(lease));
    const sweep = await run(['test-mode', 'sweep', '-o', 'json']);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(JSON.parse(sweep.stdout).swept).toMatchObject([{ panel: 'shop', outcome: 'ended' }]);
    expect(events()).toEqual(['test.start']);
    expect(await leaseFiles()).toEqual([]);
  });
});

describe('lease files are trusted only when they are ours', () => {
  it('refuses a lease file others can write, or a symlink, naming it', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '30m'])).code).toBe(0);
    const file = path.join(rig.sandbox.stateDir, 'leases', 'shop.json');
    await fs.chmod(file, 0o666);
    const loose = await run(['test-mode', 'stop', '--panel', 'shop']);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/lease file .*shop\.json is accessible by other users \(mode 0666\); panelctl does not trust it/);
    const sweep = await run(['test-mode', 'sweep']);
    expect(sweep.code).toBe(2);

    const real = path.join(rig.sandbox.dir, 'planted-lease.json');
    await fs.rename(file, real);
    await fs.chmod(real, 0o600);
    await fs.symlink(real, file);
    const linked = await run(['test-mode', 'status']);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toMatch(/shop\.json is a symbolic link; panelctl does not trust it/);
    expect(events()).toEqual(['test.start']);
  });
});

describe('sweep results a person must see', () => {
  it('a manual station: the panel half ends, the lease stays and sweep exits 7 until the call is confirmed', async () => {
    await rig.sandbox.writeInventory(inventory(panel('hall', '12', '{ type: manual }')));
    expect((await run(['test-mode', 'start', '--panel', 'hall', '--for', '1s', '--station-confirmed'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    const sweep = await run(['test-mode', 'sweep', '-o', 'json']);
    expect(sweep.code).toBe(7);
    expect(sweep.stderr).toMatch(/REMINDER: call the monitoring station to take account 12/);
    expect(JSON.parse(sweep.stdout).swept).toMatchObject([{ panel: 'hall', outcome: 'reminded' }]);
    const status = await statusJson();
    expect(status).toMatchObject({ overdue: 1, needsAttention: true });
    expect(status.leases[0].problem).toMatch(/a person must call the monitoring station/);

    const confirmed = await run(['test-mode', 'stop', '--panel', 'hall', '--station-confirmed']);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(await leaseFiles()).toEqual([]);
  });

  it('an unreachable panel makes sweep exit 7 (some leases could not be ended)', async () => {
    await rig.sandbox.writeInventory(
      inventory(
        `  gone:\n    driver: modbus\n    link: tcp://127.0.0.1:9\n    options: { profile: demo-modbus, unit: 1 }\n    account: "77"\n    station: central\n`,
      ),
    );
    // The lease as a start cut off after the station's yes leaves it: the panel is to be switched off.
    await fs.mkdir(path.join(rig.sandbox.stateDir, 'leases'), { recursive: true, mode: 0o700 });
    const now = Date.now();
    const lease = {
      v: 1,
      id: 'b1',
      panel: 'gone',
      driver: 'modbus',
      account: '77',
      from: new Date(now - 120_000).toISOString(),
      until: new Date(now - 60_000).toISOString(),
      operator: 'x',
      station: 'webhook',
      stationOnTest: true,
      panelTest: 'on',
      phase: 'active',
    };
    await fs.writeFile(path.join(rig.sandbox.stateDir, 'leases', 'gone.json'), JSON.stringify(lease), { mode: 0o600 });
    const sweep = await run(['--timeout', '1s', 'test-mode', 'sweep', '-o', 'json']);
    expect(sweep.code).toBe(7);
    expect(JSON.parse(sweep.stdout).swept).toMatchObject([{ panel: 'gone', outcome: 'failed' }]);
  });
});

describe('a sweeper whose clock is far ahead', () => {
  it('does not end a fresh test at once: the kernel clock in the lease shows the wall clock jumped', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '30m'])).code).toBe(0);
    const ahead = {
      NODE_OPTIONS: `--import=${pathToFileURL(path.join(__dirname, '..', 'support', 'clock-shift.mjs')).href}`,
      PANELCTL_TEST_CLOCK_SHIFT_MS: String(2 * 3600_000),
    };
    const sweep = await run(['test-mode', 'sweep', '-o', 'json'], ahead);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(JSON.parse(sweep.stdout).swept).toEqual([]);
    const status = JSON.parse((await run(['test-mode', 'status', '-o', 'json'], ahead)).stdout);
    expect(status.leases[0]).toMatchObject({ panel: 'shop', overdue: false });
    expect(status.leases[0].remainingSeconds).toBeGreaterThan(25 * 60);
    expect(events()).toEqual(['test.start']);
    expect((await run(['test-mode', 'stop', '--panel', 'shop'])).code).toBe(0);
  });

  it("on another machine (no kernel clock to compare), the webhook station's clock stops it", async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '30m'])).code).toBe(0);
    const file = path.join(rig.sandbox.stateDir, 'leases', 'shop.json');
    const lease = JSON.parse(await fs.readFile(file, 'utf8'));
    lease.clock.bootId = 'another-machine';
    await fs.writeFile(file, JSON.stringify(lease));
    const ahead = {
      NODE_OPTIONS: `--import=${pathToFileURL(path.join(__dirname, '..', 'support', 'clock-shift.mjs')).href}`,
      PANELCTL_TEST_CLOCK_SHIFT_MS: String(2 * 3600_000),
    };
    const sweep = await run(['test-mode', 'sweep', '-o', 'json'], ahead);
    expect(sweep.code).toBe(7);
    const [outcome] = JSON.parse(sweep.stdout).swept;
    expect(outcome).toMatchObject({ panel: 'shop', outcome: 'failed', error: { code: 'E_CLOCK_SKEW' } });
    expect(outcome.error.message).toMatch(
      /this machine's clock is 120 min ahead of the monitoring station's: by the station's clock the test on shop has (29|30) min left/,
    );
    expect(events()).toEqual(['test.start']);
    expect(await leaseFiles()).toEqual(['shop.json']);
    expect((await run(['test-mode', 'stop', '--panel', 'shop'])).code).toBe(0);
  });
});
