import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { BIN, makeSandbox, type Sandbox } from '../support/cli.js';
import { startCluster, stopCluster, pgCtl, type ClusterInfo } from '../support/postgres-cluster.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';
import { startStation, type FakeStation } from '../support/station.js';

/**
 * One sweeper for the desk (issue 18 item 2): `test-mode sweep --watch` instances elect a leader
 * with a PostgreSQL advisory lock; only the leader ends expired leases, each exactly once (station
 * notices counted by a real HTTP receiver); when the leader is killed with -9 another takes over;
 * a database restart in the middle of ending a lease neither loses its record nor repeats its notice.
 */

let station: FakeStation;
let sandbox: Sandbox;
const PANELS = 12;
const sweepers: Sweeper[] = [];

interface Sweeper {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

const inventory = () => `stations:
  central:
    type: webhook
    url: ${station.url}
    secret: env:STATION_KEY
    timeoutMs: 5000
panels:
${Array.from({ length: PANELS }, (_, i) => `  shop-${i}:\n    driver: integra\n    link: tcp://127.0.0.1:9\n    secret: env:SHOP_CODE\n    account: "47${i}"\n    station: central\n`).join('')}`;

function startSweeper(url: string): Sweeper {
  const child = spawn(process.execPath, [BIN, 'test-mode', 'sweep', '--watch', '--interval', '200ms'], {
    env: {
      ...sandbox.env,
      PANELCTL_STATE: url,
      STATION_KEY: station.key,
      SHOP_CODE: '1111',
      PANELCTL_OPERATOR: 'sweeper',
      PANELCTL_SWEEP_TAKEOVER_GRACE_MS: '1500',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d) => (text += d));
  child.stderr?.on('data', (d) => (text += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const sweeper = { child, output: () => text, exit };
  sweepers.push(sweeper);
  return sweeper;
}

/** A lease as `test-mode start` leaves it, on a panel without a panel-side test (only the station is on test). */
async function addLease(url: string, panel: string, untilMs: number): Promise<string> {
  const id = randomUUID();
  const now = new Date().toISOString();
  const lease = {
    v: 1,
    id,
    panel,
    driver: 'integra',
    account: '4700',
    from: new Date(Date.now() - 60_000).toISOString(),
    until: new Date(untilMs).toISOString(),
    operator: 'anna',
    station: 'webhook',
    stationOnTest: true,
    panelTest: 'off',
    phase: 'active',
    notices: { start: { state: 'confirmed', at: now, attempts: 1 } },
  };
  await sql(url, 'INSERT INTO panelctl_leases (id, panel, operator, host, until, data) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    panel,
    'anna',
    'annas-laptop',
    lease.until,
    JSON.stringify(lease),
  ]);
  return id;
}

async function until(condition: () => Promise<boolean> | boolean, show: () => string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`condition not met in time\n${show()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const stopsPerLease = () => {
  const counts = new Map<string, number>();
  for (const n of station.notices) if (n.event === 'test.stop') counts.set(n.lease, (counts.get(n.lease) ?? 0) + 1);
  return counts;
};
const ended = async (url: string, ids: string[]) =>
  (await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM panelctl_leases WHERE id = ANY($1) AND ended_at IS NOT NULL', [ids]))[0].n;
const outputs = () => sweepers.map((s, i) => `--- sweeper ${i} (pid ${s.child.pid})\n${s.output()}`).join('\n');

async function migrate(url: string): Promise<void> {
  const result = await sandbox.run(['state', 'migrate'], { env: { PANELCTL_STATE: url } });
  expect(result.code, result.stderr).toBe(0);
}

beforeAll(async () => {
  if (postgresMissing) return;
  station = await startStation();
  sandbox = await makeSandbox();
  await sandbox.writeInventory(inventory());
});

afterEach(async () => {
  for (const s of sweepers.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exit;
  }
  if (!station) return;
  station.notices.length = 0;
  station.delayMs = {};
  station.onNotice = undefined;
});

afterAll(async () => {
  await station?.close();
  await sandbox?.cleanup();
});

describe.skipIf(postgresMissing)('the desk sweeper', () => {
  it('eight sweepers, one leader: each expired lease is ended exactly once, and a leader killed with -9 is replaced', async () => {
    const url = await freshDatabase('sweep');
    await migrate(url);
    for (let i = 0; i < 8; i++) startSweeper(url);
    await until(
      () => sweepers.filter((s) => /leads the sweep/.test(s.output())).length === 1 && sweepers.filter((s) => /stands by/.test(s.output())).length === 7,
      outputs,
    );
    const leader = sweepers.find((s) => /leads the sweep/.test(s.output()))!;

    const first = await Promise.all(Array.from({ length: 4 }, (_, i) => addLease(url, `shop-${i}`, Date.now() + 500)));
    await until(async () => (await ended(url, first)) === 4, outputs);

    leader.child.kill('SIGKILL');
    await leader.exit;
    const second = await Promise.all(Array.from({ length: 8 }, (_, i) => addLease(url, `shop-${4 + i}`, Date.now() + 500 + i * 100)));
    await until(async () => (await ended(url, second)) === 8, outputs);

    const counts = stopsPerLease();
    expect([...counts.keys()].sort()).toEqual([...first, ...second].sort());
    expect(
      [...counts.values()].every((n) => n === 1),
      JSON.stringify([...counts]),
    ).toBe(true);
    const takeovers = sweepers.filter((s) => s !== leader && /leads the sweep \(took over\)/.test(s.output()));
    expect(takeovers, outputs()).toHaveLength(1);
    // Only leaders ever ended a lease.
    for (const s of sweepers) if (!/leads the sweep/.test(s.output())) expect(s.output()).not.toMatch(/: ended/);

    const audit = await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM panelctl_audit WHERE action = 'test-mode.stop'");
    expect(audit).toEqual([{ n: 12 }]);

    for (const s of sweepers.filter((x) => x !== leader)) s.child.kill('SIGTERM');
    for (const s of sweepers.filter((x) => x !== leader)) expect(await s.exit).toBe(143);
  }, 120_000);
});

describe.skipIf(postgresMissing)('the desk sweeper across a database restart', () => {
  let cluster: ClusterInfo;

  beforeAll(async () => {
    // A cluster of its own: restarting the shared one would cut the other test files' connections.
    cluster = await startCluster();
  });

  afterAll(async () => {
    if (cluster) await stopCluster(cluster);
  });

  it('a lone leader whose database restarts says it lost the lead, then leads again and sweeps', async () => {
    // Flake seen under load in the test below: the old leader took the lead back before the other sweeper did, and
    // then said nothing of having lost it (it said so only when someone else led first). With one sweeper that is
    // what always happens, so the loss must be said whoever leads next. A database of its own on this cluster.
    await sql(cluster.url, 'CREATE DATABASE lone_leader');
    const url = cluster.url.replace(/\/postgres$/, '/lone_leader');
    await migrate(url);
    const a = startSweeper(url);
    await until(() => /leads the sweep/.test(a.output()), outputs);
    await pgCtl(cluster, 'restart');
    await until(() => /lost the lead \(its database connection closed\)[\s\S]*leads the sweep \(took over\)/.test(a.output()), outputs);
    const lease = await addLease(url, 'shop-2', Date.now() + 300);
    await until(async () => (await ended(url, [lease])) === 1, outputs);
    expect(Object.fromEntries(stopsPerLease())).toEqual({ [lease]: 1 });
  }, 120_000);

  it('reconnects, leads again, and a lease being ended while the database restarts is recorded once, its notice sent once', async () => {
    const url = cluster.url;
    await migrate(url);
    const a = startSweeper(url);
    const b = startSweeper(url);
    await until(() => /leads the sweep/.test(a.output() + b.output()) && /stands by/.test(a.output() + b.output()), outputs);

    // The station answers the stop slowly; the database goes down while the leader waits for that
    // answer and comes back only after it, so recording the answer meets a database that is down.
    let restart: Promise<void> | undefined;
    station.delayMs = { 'test.stop': 1000 };
    station.onNotice = (notice) => {
      if (notice.event !== 'test.stop') return;
      restart ??= (async () => {
        await pgCtl(cluster, 'stop');
        await new Promise((resolve) => setTimeout(resolve, 2500));
        await pgCtl(cluster, 'start');
      })();
    };
    const before = await addLease(url, 'shop-0', Date.now() + 300);
    await until(() => restart !== undefined, outputs);
    await restart;
    station.onNotice = undefined;
    station.delayMs = {};
    await until(async () => (await ended(url, [before])) === 1, outputs);

    // After the restart the sweep goes on: a new lease is ended too.
    const after = await addLease(url, 'shop-1', Date.now() + 300);
    await until(async () => (await ended(url, [after])) === 1, outputs);
    // Whoever led lost the lead with its connection; a leader (the same or the other) took it again.
    await until(() => /lost the lead \(its database connection closed\)/.test(a.output() + b.output()), outputs);

    const counts = stopsPerLease();
    expect(Object.fromEntries(counts)).toEqual({ [before]: 1, [after]: 1 });
    const audit = await sql<{ n: number }>(url, "SELECT count(*)::int AS n FROM panelctl_audit WHERE action = 'test-mode.stop'");
    expect(audit).toEqual([{ n: 2 }]);
  }, 120_000);
});
