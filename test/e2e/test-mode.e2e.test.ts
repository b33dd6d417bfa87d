import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { servedSimulators } from '../support/served.js';
import { BIN, waitFor } from '../support/cli.js';
import { testModeRig } from '../support/test-mode-rig.js';
import { KEY, TtySession } from '../support/tty.js';

/**
 * test-mode with the real binary: a real HTTP station that verifies signatures, a station
 * command, leases on disk, sweeps racing each other, and --wait ended by signals.
 * INTEGRA has no panel test mode, so here only the station half switches; the Modbus and DSC
 * suites cover panels that switch too.
 */

const rig = testModeRig();
const { leaseFiles } = rig;
let sim: Awaited<ReturnType<typeof createSimulator>>;
let port: number;
const simulators = servedSimulators();

function inventory(extra = ''): string {
  return `stations:
  central:
    type: webhook
    url: ${rig.station.url}
    secret: env:STATION_KEY
panels:
  shop:
    driver: integra
    link: tcp://127.0.0.1:${port}
    secret: env:SHOP_CODE
    account: "4711"
    customer: Bakery Nord
    station: central
  kiosk:
    driver: integra
    link: tcp://127.0.0.1:${port}
    secret: env:SHOP_CODE
    account: "4712"
    station: central
${extra}`;
}

const env = () => ({ STATION_KEY: rig.station.key, SHOP_CODE: '1111' });
const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => rig.sandbox.run(args, { env: { ...env(), ...extraEnv } });

beforeAll(async () => {
  sim = await createSimulator({ users: 3 });
  port = await simulators.serve(sim);
  await rig.sandbox.writeInventory(inventory());
});

afterAll(async () => {});

beforeEach(async () => {});

describe('test-mode with a webhook station', () => {
  it('signs start and stop notices, records a lease, and removes it on stop', async () => {
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '45m', '--reason', 'annual service', '--ticket', 'T-77', '-o', 'json']);
    expect(start.code, start.stderr).toBe(0);
    const { lease, panelSwitched } = JSON.parse(start.stdout);
    expect(panelSwitched).toBe(false);
    expect(rig.station.badSignatures).toBe(0);
    expect(rig.station.notices).toHaveLength(1);
    expect(rig.station.notices[0]).toMatchObject({
      event: 'test.start',
      account: '4711',
      panel: 'shop',
      reason: 'annual service',
      ticket: 'T-77',
      operator: 'e2e-tester',
      lease: lease.id,
    });
    const window = Date.parse(rig.station.notices[0].until) - Date.parse(rig.station.notices[0].from);
    expect(window).toBe(45 * 60_000);
    expect(await leaseFiles()).toEqual(['shop.json']);

    // Visible from every other command on that panel, and in `panels`.
    const list = await run(['users', 'list', '--panel', 'shop']);
    expect(list.stderr).toMatch(/shop is ON TEST until/);
    const panels = await run(['panels']);
    expect(panels.stdout).toMatch(/shop\s.*ON TEST/);

    const again = await run(['test-mode', 'start', '--panel', 'shop', '--for', '10m']);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already on test/);

    const stop = await run(['test-mode', 'stop', '--panel', 'shop']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(rig.station.notices.map((n) => n.event)).toEqual(['test.start', 'test.stop']);
    expect(rig.station.notices[1].lease).toBe(lease.id);
    expect(await leaseFiles()).toEqual([]);

    const twice = await run(['test-mode', 'stop', '--panel', 'shop']);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(/was not on test/);
    expect(rig.station.notices).toHaveLength(2);
  });

  it('a station answering 500 fails the start (exit 3), leaves no lease, and audits the failure', async () => {
    rig.station.status = 500;
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m']);
    expect(start.code).toBe(3);
    expect(start.stderr).toMatch(/station's webhook answered 500: station database unavailable/);
    expect(await leaseFiles()).toEqual([]);
    const audit = await run(['audit', 'show', '-o', 'json']);
    const entries = JSON.parse(audit.stdout).entries;
    expect(entries.at(-1)).toMatchObject({ action: 'test-mode.start', outcome: 'refused', panel: 'shop' });
  });

  it('a wrong station key is refused by the station, and the message names the station, not the key', async () => {
    const start = await run(['test-mode', 'start', '--panel', 'shop', '--for', '5m'], { STATION_KEY: 'not-the-key' });
    expect(start.code).toBe(3);
    expect(start.stderr).toMatch(/answered 401/);
    expect(start.stderr).not.toContain('not-the-key');
    expect(rig.station.badSignatures).toBeGreaterThan(0);
    rig.station.badSignatures = 0;
  });

  it('status shows time left, and overdue leases in the JSON and in red words', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '1s'])).code).toBe(0);
    expect((await run(['test-mode', 'start', '--panel', 'kiosk', '--for', '2h'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    const status = await run(['test-mode', 'status', '--all', '-o', 'json']);
    const leases = JSON.parse(status.stdout).leases;
    expect(leases.map((l: { panel: string; overdue: boolean }) => [l.panel, l.overdue])).toEqual([
      ['shop', true],
      ['kiosk', false],
    ]);
    expect(leases[1].remainingSeconds).toBeGreaterThan(7000);
    const table = await run(['test-mode', 'status']);
    expect(table.stdout).toMatch(/shop .*OVERDUE/);
    expect(table.stderr).toMatch(/1 lease\(s\) overdue/);
    const overdueNote = await run(['users', 'list', '--panel', 'shop']);
    expect(overdueNote.stderr).toMatch(/shop is still ON TEST: its lease ended/);
  });

  it('sweeps end each expired lease exactly once, even when several run at once', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'shop', '--for', '1s'])).code).toBe(0);
    expect((await run(['test-mode', 'start', '--panel', 'kiosk', '--for', '1s'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    const sweeps = await Promise.all([1, 2, 3, 4].map(() => run(['test-mode', 'sweep', '-o', 'json'])));
    for (const sweep of sweeps) expect(sweep.code, sweep.stderr).toBe(0);
    const ended = sweeps.flatMap((s) => JSON.parse(s.stdout).swept).filter((o: { outcome: string }) => o.outcome === 'ended');
    expect(ended.map((o: { panel: string }) => o.panel).sort()).toEqual(['kiosk', 'shop']);
    expect(
      rig.station.notices
        .filter((n) => n.event === 'test.stop')
        .map((n) => n.panel)
        .sort(),
    ).toEqual(['kiosk', 'shop']);
    expect(await leaseFiles()).toEqual([]);
  });

  it('--wait on a terminal shows a live countdown, and Ctrl-C there ends the test', async () => {
    const t = new TtySession(['test-mode', 'start', '--panel', 'shop', '--for', '20m', '--wait'], { ...rig.sandbox.env, ...env() });
    try {
      await t.expect(/shop on test: (19m 5\d|20m 00)s left \(Ctrl-C ends the test now\)/);
      expect(rig.station.notices.map((n) => n.event)).toEqual(['test.start']);
      t.send(KEY.ctrlC);
      await t.expect(/shop is off test \(station and panel\)/);
      expect((await t.exit()).exitCode).toBe(130);
    } finally {
      t.kill();
    }
    expect(rig.station.notices.map((n) => n.event)).toEqual(['test.start', 'test.stop']);
    expect(await leaseFiles()).toEqual([]);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`--wait ended by ${signal} takes the account off test and exits ${signal === 'SIGINT' ? 130 : 143}`, async () => {
      const child = spawn(process.execPath, [BIN, 'test-mode', 'start', '--panel', 'shop', '--for', '30m', '--wait'], {
        env: { ...rig.sandbox.env, ...env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await waitFor(
        () => /waiting until/.test(out),
        () => out,
      );
      expect(rig.station.notices.map((n) => n.event)).toEqual(['test.start']);
      child.kill(signal);
      expect(await exited).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(out).toMatch(new RegExp(`${signal} received: ending test mode on shop`));
      expect(rig.station.notices.map((n) => n.event)).toEqual(['test.start', 'test.stop']);
      expect(await leaseFiles()).toEqual([]);
    });
  }
});

describe('test-mode help and flags', () => {
  it('start and stop offer only what test mode accepts: an inventory panel, not an ad hoc link', async () => {
    for (const sub of ['start', 'stop']) {
      const help = await run(['test-mode', sub, '--help']);
      expect(help.stdout).toMatch(/-p, --panel <name>/);
      expect(help.stdout).not.toMatch(/--link|--driver|--secret-from/);
    }
    const adHoc = await run(['test-mode', 'start', '--panel', 'shop', '--link', 'tcp://127.0.0.1:9', '--for', '5m']);
    expect(adHoc.code).toBe(2);
    expect(adHoc.stderr).toMatch(/unknown option '--link'/);
    expect(rig.station.notices).toEqual([]);
  });

  it('status --panel with a name that is no panel and has no lease is exit 2 (a typo said "No panel is on test" while one was); --panel with --all too', async () => {
    expect((await run(['test-mode', 'start', '--panel', 'kiosk', '--for', '2h'])).code).toBe(0);
    try {
      for (const extra of [[], ['--check']]) {
        const typo = await run(['test-mode', 'status', '--panel', 'kisok', ...extra]);
        expect(typo.code, typo.stdout).toBe(2);
        expect(typo.stderr).toMatch(/no panel named "kisok" in the inventory; did you mean kiosk\?/);
      }
      const both = await run(['test-mode', 'status', '--panel', 'kiosk', '--all']);
      expect(both.code, both.stdout).toBe(2);
      expect(both.stderr).toContain('--all: give --panel NAME or --all, not both');
      const named = await run(['test-mode', 'status', '--panel', 'kiosk', '-o', 'json']);
      expect(JSON.parse(named.stdout).leases.map((l: { panel: string }) => l.panel)).toEqual(['kiosk']);
    } finally {
      expect((await run(['test-mode', 'stop', '--panel', 'kiosk'])).code).toBe(0);
    }
  });
});

describe('test-mode with other stations', () => {
  it('runs a station command with the notice on stdin; a non-zero exit fails the start', async () => {
    const received = path.join(rig.sandbox.dir, 'received.jsonl');
    const script = path.join(rig.sandbox.dir, 'rig.station.mjs');
    await fs.writeFile(
      script,
      `import fs from 'node:fs';\nconst body = fs.readFileSync(0, 'utf8');\nif (process.env.REFUSE) { console.error('account unknown at the station'); process.exit(2); }\nfs.appendFileSync(${JSON.stringify(received)}, body + '\\n');\n`,
    );
    await rig.sandbox.writeInventory(
      inventory(
        `  depot:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:SHOP_CODE\n    account: "99"\n    station: { type: command, command: ["${process.execPath}", "${script}"], env: [REFUSE] }\n`,
      ),
    );
    const refused = await run(['test-mode', 'start', '--panel', 'depot', '--for', '5m'], { REFUSE: '1' });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/exited with status 2: account unknown at the station/);
    expect(await leaseFiles()).toEqual([]);

    expect((await run(['test-mode', 'start', '--panel', 'depot', '--for', '5m'])).code).toBe(0);
    expect((await run(['test-mode', 'stop', '--panel', 'depot'])).code).toBe(0);
    const lines = (await fs.readFile(received, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.event, l.account])).toEqual([
      ['test.start', '99'],
      ['test.stop', '99'],
    ]);
    await rig.sandbox.writeInventory(inventory());
  });

  it('a manual station without a terminal needs --station-confirmed; a panel without an account is refused', async () => {
    await rig.sandbox.writeInventory(
      inventory(
        `  hall:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:SHOP_CODE\n    account: "12"\n    station: { type: manual }\n  shed:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:SHOP_CODE\n    station: central\n`,
      ),
    );
    const refused = await run(['test-mode', 'start', '--panel', 'hall', '--for', '5m']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/manual and there is no terminal/);
    expect(refused.stderr).toMatch(/--station-confirmed/);
    const confirmed = await run(['test-mode', 'start', '--panel', 'hall', '--for', '5m', '--station-confirmed']);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    // Without a terminal the end is only a reminder: exit 7 and the lease stays until the call is confirmed.
    const stop = await run(['test-mode', 'stop', '--panel', 'hall']);
    expect(stop.code).toBe(7);
    expect(stop.stderr).toMatch(/REMINDER: call the monitoring station to take account 12/);
    expect(await leaseFiles()).toEqual(['hall.json']);
    const confirmedStop = await run(['test-mode', 'stop', '--panel', 'hall', '--station-confirmed']);
    expect(confirmedStop.code, confirmedStop.stderr).toBe(0);
    expect(await leaseFiles()).toEqual([]);

    const noAccount = await run(['test-mode', 'start', '--panel', 'shed', '--for', '5m']);
    expect(noAccount.code).toBe(2);
    expect(noAccount.stderr).toMatch(/panel "shed", field "account": is required for test mode/);
    expect(rig.station.notices).toHaveLength(0);
    await rig.sandbox.writeInventory(inventory());
  });
});
