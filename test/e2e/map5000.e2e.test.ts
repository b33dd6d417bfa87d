import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MapEndpoint, type MapSimulator, createSimulator, DEMO_PASSWORD, DEMO_USER } from '../../drivers/map5000/simulator.js';
import { type CliResult, type Sandbox, makeSandbox } from '../support/cli.js';

/**
 * The real panelctl binary against the MAP 5000 simulator over real HTTPS on loopback: digest
 * authentication, the pinned certificate, the sync id rule, walk tests, and each fault knob with its
 * exit code. Most panels here use a 100 ms pacing interval (the simulator's is set to match) so the
 * file runs in seconds; `real-pace` keeps the panel's 1 s rule, and `too-fast` is configured faster
 * than the simulator allows. Every code used is searched for in everything the tool printed or wrote.
 */

let sim: MapSimulator;
let endpoint: MapEndpoint;
let sandbox: Sandbox;
const outputs: CliResult[] = [];
const codesUsed = new Set<string>();

async function panelctl(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const result = await sandbox.run(args, { input: options.input, env: { MAP_PASSWORD: DEMO_PASSWORD, ...options.env } });
  outputs.push(result);
  return result;
}

const FAST = `{ user: ${DEMO_USER}, requestIntervalMs: 100, overloadBackoffMs: 200 }`;

function panel(name: string, options = FAST, pin = '', secret = 'env:MAP_PASSWORD'): string[] {
  return [
    `  ${name}:`,
    '    driver: map5000',
    `    link: ${endpoint.url}`,
    ...(pin === 'none' ? [] : [`    tls: { fingerprint: "${pin || endpoint.fingerprint}" }`]),
    `    options: ${options}`,
    `    secrets: { password: ${secret} }`,
    '    account: "4711"',
  ];
}

const statusesSince = (start: number) => sim.model.log.slice(start).map((entry) => entry.status);

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = await createSimulator({ users: 5, options: { intervalMs: 100 } });
  for (const user of Object.values(sim.model.state.users)) codesUsed.add(user.passcode);
  endpoint = await sim.listen('127.0.0.1', 0);
  const last = endpoint.fingerprint.slice(-2);
  const wrongPin = `${endpoint.fingerprint.slice(0, -2)}${last === '00' ? '11' : '00'}`;
  await sandbox.writeInventory(
    [
      'panels:',
      ...panel('hq'),
      ...panel('bad-pin', FAST, wrongPin),
      ...panel('no-pin', FAST, 'none'),
      ...panel('wrong-password', FAST, '', 'env:MAP_WRONG'),
      ...panel('too-fast', `{ user: ${DEMO_USER}, requestIntervalMs: 50, overloadBackoffMs: 1000 }`),
      ...panel('real-pace', `{ user: ${DEMO_USER} }`),
      ...panel('slow-pace', `{ user: ${DEMO_USER}, requestIntervalMs: 2000, overloadBackoffMs: 200 }`),
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await sim.close();
  const everything = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await sandbox.allWrittenText());
  for (const code of codesUsed) expect(everything).not.toContain(code);
  expect(everything).not.toContain(DEMO_PASSWORD);
  await sandbox.cleanup();
});

beforeEach(async () => {
  sim.model.faults.busyReplies = 0;
  sim.model.faults.lockedOut = false;
  sim.settings.licence = true;
  sim.settings.encryptedSecrets = false;
  sim.settings.minIntervalMs = 100;
  // No pause between tests: each panelctl process waits out the interval after the previous one's last answer
  // (recorded with the panel's work lock), as it must on a desk.
});

describe('panelctl against the MAP 5000 simulator over HTTPS', () => {
  it('lists users from GET /users, with names and types, never a code', async () => {
    const result = await panelctl(['users', 'list', '--panel', 'hq', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const { users } = JSON.parse(result.stdout);
    expect(users.map((u: { slot: number }) => u.slot)).toEqual([5, 6, 7, 8, 9]);
    expect(users[0]).toMatchObject({ slot: 5, name: 'Anna User 5', type: 'User:Standard', hasCode: true });
  });

  it('adds a user with the sync id and proves it by reading the passcode back; changes its code; removes it', async () => {
    codesUsed.add('482913');
    const add = await panelctl(['users', 'add', '--panel', 'hq', '--slot', '40', '--name', 'Jan Jansen', '--code-stdin', '-o', 'json'], { input: '482913\n' });
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ proof: 'code-check', user: { slot: 40, name: 'Jan Jansen' } });
    expect(sim.model.state.users['040']).toMatchObject({ firstName: 'Jan', lastName: 'Jansen', passcode: '482913', accessModel: 'Basic Profile' });
    const sync = sim.model.state.userModelSyncID;

    codesUsed.add('730164');
    const change = await panelctl(['users', 'set-code', '--panel', 'hq', '--slot', '40', '--code-stdin', '-o', 'json'], { input: '730164\n' });
    expect(change.code, change.stderr).toBe(0);
    expect(JSON.parse(change.stdout)).toMatchObject({ proof: 'code-check' });
    expect(sim.model.state.users['040']).toMatchObject({ passcode: '730164', firstName: 'Jan', lastName: 'Jansen' });
    expect(sim.model.state.userModelSyncID).toBe(sync + 1);

    const remove = await panelctl(['users', 'remove', '--panel', 'hq', '--slot', '40', '--yes', '-o', 'json']);
    expect(remove.code, remove.stderr).toBe(0);
    expect(sim.model.state.users['040']).toBeUndefined();
  });

  it('with encrypted passcodes a code change is proven by read-back (the code itself cannot be read), and says so', async () => {
    sim.settings.encryptedSecrets = true;
    codesUsed.add('519027');
    const change = await panelctl(['users', 'set-code', '--panel', 'hq', '--slot', '6', '--code-stdin', '-o', 'json'], { input: '519027\n' });
    expect(change.code, change.stderr).toBe(0);
    expect(JSON.parse(change.stdout)).toMatchObject({ proof: 'read-back' });
    expect(sim.model.state.users['006'].passcode).toBe('519027');
  });

  it('runs the walk test in every area as test mode, and stops it', async () => {
    const start = await panelctl(['test-mode', 'start', '--panel', 'hq', '--for', '5m', '--station-confirmed']);
    expect(start.code, start.stderr).toBe(0);
    expect(Object.values(sim.model.state.walktests).flatMap((w) => w.areas)).toEqual(['/1.1.Area.2.1', '/1.1.Area.2.2']);
    const stop = await panelctl(['test-mode', 'stop', '--panel', 'hq', '--station-confirmed']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(sim.model.state.walktests).toEqual({});
  });

  it('a walk test someone else runs in an area: the start is refused (409), and the area it did start is stopped again', async () => {
    sim.model.state.walktests['0123456789ABCDEF0123456789ABCDEF'] = { areas: ['/1.1.Area.2.2'], user: 'keypad' };
    try {
      const start = await panelctl(['test-mode', 'start', '--panel', 'hq', '--for', '5m', '--station-confirmed']);
      expect(start.code).toBe(3);
      expect(start.stderr).toMatch(/walk test is already running in area \/1\.1\.Area\.2\.2/);
      expect(Object.keys(sim.model.state.walktests)).toEqual(['0123456789ABCDEF0123456789ABCDEF']);
    } finally {
      sim.model.state.walktests = {};
    }
  });

  it('without the MUM licence a user change exits 6 with that reason; listing still works', async () => {
    sim.settings.licence = false;
    codesUsed.add('604518');
    const add = await panelctl(['users', 'add', '--panel', 'hq', '--slot', '41', '--name', 'No Licence', '--code-stdin'], { input: '604518\n' });
    expect(add.code).toBe(6);
    expect(add.stderr).toMatch(/no MUM licence/);
    expect(add.stderr).toContain('License missing MUM/usermodel');
    expect(sim.model.state.users['041']).toBeUndefined();
    expect((await panelctl(['users', 'list', '--panel', 'hq'])).code).toBe(0);
  });

  it('503 (overload knob): retried at most twice after the back-off, then exit 4', async () => {
    sim.model.faults.busyReplies = 2;
    expect((await panelctl(['users', 'list', '--panel', 'hq'])).code).toBe(0);
    sim.model.faults.busyReplies = 10;
    const start = sim.model.log.length;
    const busy = await panelctl(['users', 'list', '--panel', 'hq']);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toMatch(/overloaded \(HTTP 503\)/);
    expect(statusesSince(start)).toEqual([503, 503, 503]);
  });

  it('tamper lockout knob: 401 without a challenge stops at once with exit 3 and says so', async () => {
    sim.model.faults.lockedOut = true;
    const start = sim.model.log.length;
    const locked = await panelctl(['users', 'list', '--panel', 'hq']);
    expect(locked.code).toBe(3);
    expect(locked.stderr).toMatch(/tamper lockout/);
    expect(statusesSince(start)).toEqual([401]);
  });

  it('a wrong digest password is sent once, refused with exit 3, and never retried', async () => {
    const start = sim.model.log.length;
    const wrong = await panelctl(['users', 'list', '--panel', 'wrong-password'], { env: { MAP_WRONG: 'Not-The-Pass-1!' } });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/refused the digest credential/);
    expect(statusesSince(start)).toEqual([401, 401]);
  });

  it('a wrong certificate pin, or none for a self-signed panel, is refused before any request, naming the server certificate', async () => {
    const start = sim.model.log.length;
    const pinned = await panelctl(['users', 'list', '--panel', 'bad-pin']);
    expect(pinned.code).toBe(4);
    expect(pinned.stderr).toMatch(/server certificate .* is not the pinned one/);
    expect(pinned.stderr).toContain(endpoint.fingerprint);
    const unpinned = await panelctl(['users', 'list', '--panel', 'no-pin']);
    expect(unpinned.code).toBe(4);
    expect(unpinned.stderr).toMatch(/server certificate .* is not trusted/);
    expect(sim.model.log.length).toBe(start);
  });

  it('keeps the 1 s rule between an answer and the next request; a client configured faster is refused (503) and backs off', async () => {
    sim.settings.minIntervalMs = 1000;
    const start = sim.model.log.length;
    const paced = await panelctl(['users', 'list', '--panel', 'real-pace']);
    expect(paced.code, paced.stderr).toBe(0);
    const entries = sim.model.log.slice(start);
    expect(entries.map((e) => e.status)).toEqual([401, 200]);
    expect(entries[1].at - entries[0].at).toBeGreaterThanOrEqual(1000);

    // too-fast waits only its own (too short) interval after the last answer: let the panel's second pass first.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fastStart = sim.model.log.length;
    const fast = await panelctl(['users', 'list', '--panel', 'too-fast']);
    expect(fast.code, fast.stderr).toBe(0);
    expect(statusesSince(fastStart)).toEqual([401, 503, 200]);
  });

  it("two panelctl processes back to back keep the interval between them: the second waits out the first one's last answer, never a 503", async () => {
    // 2 s, longer than a panelctl start-up even on a loaded machine, so that a second process that does not wait asks too soon.
    sim.settings.minIntervalMs = 2000;
    const start = sim.model.log.length;
    const first = await panelctl(['users', 'list', '--panel', 'slow-pace']);
    expect(first.code, first.stderr).toBe(0);
    const second = await panelctl(['users', 'list', '--panel', 'slow-pace', '-o', 'json']);
    expect(second.code, second.stderr).toBe(0);
    const entries = sim.model.log.slice(start);
    expect(entries.map((e) => e.status)).toEqual([401, 200, 401, 200]);
  });

  it('--debug traces show requests and answers without codes or the password', async () => {
    const traced = await panelctl(['--debug', 'users', 'set-code', '--panel', 'hq', '--slot', '7', '--code-stdin'], { input: '905318\n' });
    codesUsed.add('905318');
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stderr).toMatch(/POST \/usermodel .*"passcode":"\[secret\]"/);
    expect(traced.stderr).toMatch(/response=\[masked\]/);
  });
});
