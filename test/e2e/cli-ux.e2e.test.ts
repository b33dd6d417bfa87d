import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { BIN, makeSandbox, startCli, waitFor, type Sandbox } from '../support/cli.js';
import { TtySession } from '../support/tty.js';
import { haveSocat, makePtyPair } from '../support/pty-pair.js';

/**
 * Flags, units, times, messages and exit codes, through the real binary (issue 19): what a new
 * user trips over when the tool says one thing and means another.
 */

type Sim = Awaited<ReturnType<typeof createSimulator>>;

const MASTER = '73918264';
let sim: Sim;
let server: TcpServerHandle;
let sandbox: Sandbox;
/** Connections the simulator has taken: a test can act once panelctl is talking to the panel. */
let connections = 0;

const run = (args: string[], env?: NodeJS.ProcessEnv) => sandbox.run(args, { env: { LAB_CODE: MASTER, ...env } });

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = await createSimulator({ users: 5 });
  sim.state.users[241].code = MASTER;
  server = await serveTcp('127.0.0.1', 0, (stream) => {
    connections++;
    sim.accept(stream);
  });
  await sandbox.writeInventory(
    `panels:\n  lab:\n    driver: integra\n    link: tcp://127.0.0.1:${server.port}\n    secret: env:LAB_CODE\n    account: "7001"\n    customer: Nordic Retail AS\n` +
      // The inventory still names the old port: a technician on site brings --link.
      `  moved:\n    driver: integra\n    link: tcp://127.0.0.1:9\n    secret: env:LAB_CODE\n    account: "7002"\n`,
  );
});

afterAll(async () => {
  await server.close();
  await sim.close();
  await sandbox.cleanup();
});

beforeEach(() => sim.setFaults({ latencyMs: 0 }));

describe('durations', () => {
  it('--timeout 2 is two seconds, not two milliseconds: a panel answering in 150 ms is reached', async () => {
    sim.setFaults({ latencyMs: 150 });
    const result = await run(['--timeout', '2', 'users', 'list', '--panel', 'lab', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
  });

  it('--timeout takes compound forms (1m30s, "45 min", 1.5h) and refuses nonsense naming the flag', async () => {
    for (const value of ['1m30s', '45 min', '1.5h', '1h 30m']) {
      const result = await run(['--timeout', value, 'users', 'list', '--panel', 'lab', '-o', 'json']);
      expect(result.code, `${value}: ${result.stderr}`).toBe(0);
    }
    const bad = await run(['--timeout', '5 parsecs', 'users', 'list', '--panel', 'lab']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout: must be a duration like 30s/);
  });

  it('test-mode start --for 45 (no unit) is refused before anything happens: minutes or seconds?', async () => {
    const result = await run(['test-mode', 'start', '--panel', 'lab', '--for', '45', '--station-confirmed']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--for: .*"45" has no unit/);
  });
});

describe('help', () => {
  it('shows defaults as values, the global flags and an example on a subcommand, and every exit code', async () => {
    const plan = await run(['bulk', 'plan', '--help']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/default: 16\)/);
    expect(plan.stdout).not.toMatch(/default: "/);
    expect(plan.stdout).toMatch(/Global Options:[\s\S]*-o, --output[\s\S]*--ticket[\s\S]*-i, --inventory/);
    expect(plan.stdout).toMatch(/Examples?:\n\s+panelctl bulk plan /);
    const commands = [
      'users',
      'users list',
      'users add',
      'users set-code',
      'users remove',
      'info',
      'panels',
      'drivers',
      'audit',
      'audit show',
      'audit verify',
      'test-mode',
      'test-mode start',
      'test-mode stop',
      'test-mode status',
      'test-mode sweep',
      'bulk',
      'bulk plan',
      'bulk apply',
      'bulk status',
      'shell',
      'ports',
      'probe',
      'sim',
    ];
    for (const command of commands) {
      const help = await run([...command.split(' '), '--help']);
      expect(help.stdout, command).toMatch(/\nExamples:\n {2}panelctl /);
      expect(help.stdout, command).toMatch(/Global Options:/);
    }
    const root = await run(['--help']);
    expect(root.stdout).toMatch(/130 interrupted/);
    expect(root.stdout).toMatch(/143 terminated/);
    expect(root.stdout).toMatch(/8 needs attention/);
  });
});

describe('times', () => {
  it('audit show prints local time with a four-digit year, 24-hour without a locale; JSON keeps ISO UTC', async () => {
    const added = await run([
      'users',
      'add',
      '--panel',
      'lab',
      '--slot',
      '20',
      '--name',
      'Time Test',
      '--partitions',
      '1',
      '--generate',
      '--reveal',
      '-o',
      'json',
    ]);
    expect(added.code, added.stderr).toBe(0);
    const table = await run(['audit', 'show', '--limit', '1'], { TZ: 'Europe/Oslo' });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/\b20\d\d-\d\d-\d\d [0-2]\d:\d\d:\d\d\b/);
    expect(table.stdout).not.toMatch(/\dT\d|Z\b/);
    const json = await run(['audit', 'show', '--limit', '1', '-o', 'json']);
    expect(JSON.parse(json.stdout).entries[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const us = await run(['audit', 'show', '--limit', '1'], { LANG: 'en_US.UTF-8', TZ: 'UTC' });
    expect(us.stdout).toMatch(/\d\d\/\d\d\/20\d\d, \d\d:\d\d:\d\d [AP]M/);
  });
});

describe('messages', () => {
  it('a missing inventory names the path and how it was chosen, not a bare ENOENT', async () => {
    const missing = path.join(sandbox.dir, 'nowhere.yaml');
    const byFlag = await run(['-i', missing, 'panels']);
    expect(byFlag.code).toBe(2);
    expect(byFlag.stderr).toContain(`${missing} (--inventory): no such file`);
    expect(byFlag.stderr).not.toMatch(/ENOENT/);
    const byEnv = await run(['panels'], { PANELCTL_INVENTORY: missing });
    expect(byEnv.stderr).toContain(`${missing} (PANELCTL_INVENTORY)`);
  });

  it('with no inventory at all, an unknown panel says which default path was tried', async () => {
    const result = await run(['users', 'list', '--panel', 'oslo-office'], { PANELCTL_INVENTORY: undefined, XDG_CONFIG_HOME: path.join(sandbox.dir, 'cfg') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no inventory at ${path.join(sandbox.dir, 'cfg', 'panelctl', 'inventory.yaml')} (the default path)`);
  });
});

describe('a closed stdout pipe', () => {
  it("ends quietly with the command's own exit code, like `| head -1`", async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'drivers'], { env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first line
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('users set-code/remove --user NAME', () => {
  it('finds the one user with exactly that name and changes their code', async () => {
    sim.state.users[4].name = 'Kari Nordmann';
    const before = sim.state.users[4].code;
    const done = await sandbox.run(['users', 'set-code', '--panel', 'lab', '--user', 'Kari Nordmann', '--code-stdin', '-o', 'json'], {
      input: '583920\n',
      env: { LAB_CODE: MASTER },
    });
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).user).toMatchObject({ slot: 4, name: 'Kari Nordmann' });
    expect(sim.state.users[4].code).toBe('583920');
    expect(sim.state.users[4].code).not.toBe(before);
  });

  it('refuses an ambiguous name, listing the matches, and changes nothing', async () => {
    sim.state.users[2].name = 'Per Hansen';
    sim.state.users[3].name = 'Per Hansen';
    const codes = [sim.state.users[2].code, sim.state.users[3].code];
    const result = await sandbox.run(['users', 'set-code', '--panel', 'lab', '--user', 'Per Hansen', '--code-stdin'], {
      input: '583921\n',
      env: { LAB_CODE: MASTER },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--user: "Per Hansen" is the name of 2 users on lab: slot 2 "Per Hansen", slot 3 "Per Hansen"/);
    expect([sim.state.users[2].code, sim.state.users[3].code]).toEqual(codes);
    const remove = await run(['users', 'remove', '--panel', 'lab', '--user', 'Per Hansen', '--yes']);
    expect(remove.code).toBe(2);
    expect(sim.state.users[2]).toBeDefined();
  });

  it('removes by name; an unknown name is refused with the similar ones', async () => {
    sim.state.users[5].name = 'Leaving Soon';
    const unknown = await run(['users', 'remove', '--panel', 'lab', '--user', 'leaving', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no user on lab is named exactly "leaving"/);
    expect(unknown.stderr).toMatch(/similar: slot 5 "Leaving Soon"/);
    const removed = await run(['users', 'remove', '--panel', 'lab', '--user', 'Leaving Soon', '--yes', '-o', 'json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout).user).toMatchObject({ slot: 5, name: 'Leaving Soon' });
    expect(sim.state.users[5]).toBeUndefined();
  });

  it('is refused on a driver that keeps no names (DSC), before the panel is contacted', async () => {
    const result = await sandbox.run(['users', 'set-code', '--panel', 'demo-dsc', '--user', 'Anna', '--code-stdin'], { input: '5839\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--user: .*keep no user names: give --slot N/);
  });
});

describe('--link over an inventory panel', () => {
  it('reaches the panel over the given link, keeps its driver and secret, says so, and records it in the audit', async () => {
    const list = await run(['users', 'list', '--panel', 'moved', '--link', `tcp://127.0.0.1:${server.port}`, '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).panel).toBe('moved');
    const change = await sandbox.run(['users', 'set-code', '--panel', 'moved', '--link', `tcp://127.0.0.1:${server.port}`, '--slot', '1', '--code-stdin'], {
      input: '690417\n',
      env: { LAB_CODE: MASTER },
    });
    expect(change.code, change.stderr).toBe(0);
    expect(change.stderr).toContain(`moved: using tcp://127.0.0.1:${server.port} for this run instead of the inventory's tcp://127.0.0.1:9`);
    const audit = JSON.parse((await run(['audit', 'show', '--panel', 'moved', '-o', 'json'])).stdout);
    expect(audit.entries.at(-1)).toMatchObject({
      action: 'users.set-code',
      details: { link: `tcp://127.0.0.1:${server.port}`, inventoryLink: 'tcp://127.0.0.1:9' },
    });
  });

  it('test mode takes no ad hoc link flags: its help does not list them and they are refused', async () => {
    for (const sub of ['start', 'stop']) {
      const help = await run(['test-mode', sub, '--help']);
      expect(help.stdout).not.toMatch(/--link|--driver|--secret-from/);
    }
    const refused = await run(['test-mode', 'start', '--panel', 'lab', '--link', 'serial:///dev/ttyUSB1', '--for', '5m']);
    expect(refused.code).toBe(2);
  });
});

describe('exit codes that blame the right thing', () => {
  it('probe on a serial port that does not exist is exit 4 (cannot reach), naming the ports that exist', async () => {
    const result = await run(['--timeout', '1s', 'probe', 'serial:///dev/ttyPANELCTL-NONE']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/serial port \/dev\/ttyPANELCTL-NONE does not exist/);
    expect(result.stderr).toMatch(/hint: (ports that exist|no serial ports were found)/);
    expect(result.stderr).not.toMatch(/check the cable/);
  });

  it('probe where nothing answers is exit 4; where a panel answers, it prints the command to use next', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const nothing = await run(['--timeout', '300ms', 'probe', `tcp://127.0.0.1:${port}`]);
      expect(nothing.code).toBe(4);
      expect(nothing.stderr).toMatch(/no known panel protocol answered/);
    } finally {
      silent.close();
    }
    const found = await run(['probe', `tcp://127.0.0.1:${server.port}`]);
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain(`next: panelctl users list --link 'tcp://127.0.0.1:${server.port}' --driver integra --secret-from prompt`);
  });

  it('sim --listen on a port in use is bad input (exit 2) naming the address, not "a bug"', async () => {
    const result = await run(['sim', 'integra', '--listen', `127.0.0.1:${server.port}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--listen: 127.0.0.1:${server.port} is already in use by another program`);
    expect(result.stderr).not.toMatch(/unexpected|bug/);
  });

  it('sim --baud and --pace go with --serial, and --baud must be a rate: exit 2, not ignored (the simulator then served on)', async () => {
    const options = { env: { LAB_CODE: MASTER }, timeoutMs: 10_000 };
    const baud = await sandbox.run(['sim', 'integra', '--listen', '127.0.0.1:0', '--baud', '9600'], options);
    expect(baud.code, baud.stderr).toBe(2);
    expect(baud.stderr).toContain('--baud: goes with --serial (a simulator on --listen has no baud rate)');
    const pace = await sandbox.run(['sim', 'integra', '--listen', '127.0.0.1:0', '--pace'], options);
    expect(pace.code, pace.stderr).toBe(2);
    expect(pace.stderr).toContain('--pace: goes with --serial');
    const rate = await sandbox.run(['sim', 'integra', '--serial', '/dev/null', '--baud', 'fast'], options);
    expect(rate.code, rate.stderr).toBe(2);
    expect(rate.stderr).toContain('--baud: must be a whole number of bits per second');
  });

  it('sim --set with a name the simulator does not read is exit 2 naming it and the ones it reads, for every driver (a typo was ignored)', async () => {
    const typos: Record<string, [string, string]> = {
      integra: ['latencyMS=200', 'latencyMs'],
      dsc: ['maxUser=32', 'maxUsers'],
      modbus: ['exceptioncode=4', 'exceptionCode'],
      vista: ['maxUsers=20', 'maxUser'],
      map5000: ['intervalMS=50', 'intervalMs'],
    };
    for (const [driver, [typo, meant]] of Object.entries(typos)) {
      const result = await sandbox.run(['sim', driver, '--listen', '127.0.0.1:0', '--set', typo], { timeoutMs: 10_000 });
      expect(result.code, `${driver}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(`--set: the ${driver} simulator has no option "${typo.split('=')[0]}"`);
      expect(result.stderr).toContain(meant);
    }
  });
});

describe('panels', () => {
  it('lists the inventory with a CUSTOMER column and no demo panels; --demo adds them; demo still works by name', async () => {
    const list = await run(['panels']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+DRIVER\s+LINK\s+ACCOUNT\s+CUSTOMER/);
    expect(list.stdout).toMatch(/lab .*Nordic Retail AS/);
    expect(list.stdout).not.toMatch(/^demo/m);
    const withDemo = await run(['panels', '--demo', '-o', 'json']);
    expect(JSON.parse(withDemo.stdout).panels.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['lab', 'demo', 'demo-dsc', 'demo-modbus']));
    expect((await run(['info', '--panel', 'demo', '-o', 'json'])).code).toBe(0);
  });

  it('with no inventory, lists the demo panels (the README quick start)', async () => {
    const result = await run(['panels', '-o', 'json'], { PANELCTL_INVENTORY: undefined, XDG_CONFIG_HOME: path.join(sandbox.dir, 'cfg') });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).panels.map((p: { name: string }) => p.name)).toContain('demo');
  });
});

describe('--detailed-exitcode: "worked, but a person must look" is exit 8, only when asked', () => {
  it('bulk plan with conflicts and bulk apply of a plan whose rows all conflicted', async () => {
    const changes = path.join(sandbox.dir, 'changes.csv');
    const plan = path.join(sandbox.dir, 'conflicted.json');
    await fs.writeFile(changes, 'panel,action,slot,code\nmoved,set-code,1,generate\n');
    const quiet = await run(['bulk', 'plan', changes, '--out', plan]);
    expect(quiet.code, quiet.stderr).toBe(0);
    const detailed = await run(['--detailed-exitcode', 'bulk', 'plan', changes, '--out', plan]);
    expect(detailed.code, detailed.stderr).toBe(8);
    expect(detailed.stderr).toMatch(/needs attention: 1 conflict\(s\) in the plan/);
    expect((await run(['bulk', 'apply', plan])).code).toBe(0);
    expect((await run(['--detailed-exitcode', 'bulk', 'apply', plan, '-o', 'json'])).code).toBe(8);
  });

  it('bulk status with failed steps', async () => {
    const changes = path.join(sandbox.dir, 'one.csv');
    const plan = path.join(sandbox.dir, 'fails.json');
    await fs.writeFile(changes, 'panel,action,slot,code\nlab,set-code,1,generate\n');
    expect((await run(['bulk', 'plan', changes, '--out', plan])).code).toBe(0);
    sim.setFaults({ dropReplies: 1000 });
    try {
      const codesOut = path.join(sandbox.dir, 'private', 'codes.csv');
      await fs.mkdir(path.dirname(codesOut), { mode: 0o700 });
      const apply = await run(['--timeout', '200ms', 'bulk', 'apply', plan, '--retries', '0', '--codes-out', codesOut]);
      expect(apply.code, apply.stderr).toBe(7);
    } finally {
      sim.setFaults({ dropReplies: 0 });
    }
    expect((await run(['bulk', 'status', plan])).code).toBe(0);
    const detailed = await run(['--detailed-exitcode', 'bulk', 'status', plan, '-o', 'json']);
    expect(detailed.code, detailed.stderr).toBe(8);
  });

  it('test-mode status with an overdue lease', async () => {
    const start = await run(['test-mode', 'start', '--panel', 'lab', '--for', '1s', '--station-confirmed']);
    expect(start.code, start.stderr).toBe(0);
    try {
      let overdue = false;
      for (let tries = 0; !overdue; tries++) {
        expect(tries, 'the 1 s lease never became overdue').toBeLessThan(100);
        const status = JSON.parse((await run(['test-mode', 'status', '-o', 'json'])).stdout);
        overdue = status.leases.some((l: { overdue: boolean }) => l.overdue);
        if (!overdue) await new Promise((r) => setTimeout(r, 100));
      }
      expect((await run(['test-mode', 'status'])).code).toBe(0);
      expect((await run(['--detailed-exitcode', 'test-mode', 'status'])).code).toBe(8);
    } finally {
      await run(['test-mode', 'stop', '--panel', 'lab', '--station-confirmed']);
    }
  });
});

describe('audit show', () => {
  it('filters by --panel, --operator, --since and --limit, and shows the user NAME', async () => {
    sim.state.users[6] = { ...sim.state.users[1], number: 6, name: 'Audit Anna' }; // a record names its own slot (0xE1 answers are checked)
    const change = await sandbox.run(['--operator', 'anna', 'users', 'set-code', '--panel', 'lab', '--slot', '6', '--code-stdin'], {
      input: '418093\n',
      env: { LAB_CODE: MASTER },
    });
    expect(change.code, change.stderr).toBe(0);
    const anna = JSON.parse((await run(['audit', 'show', '--operator', 'anna', '-o', 'json'])).stdout).entries;
    expect(anna.length).toBe(1);
    expect(anna[0]).toMatchObject({ operator: 'anna', panel: 'lab', slot: 6 });
    const lastTwo = JSON.parse((await run(['audit', 'show', '--panel', 'lab', '--since', '1h', '--limit', '2', '-o', 'json'])).stdout).entries;
    expect(lastTwo.length).toBe(2);
    expect(lastTwo.every((e: { panel: string }) => e.panel === 'lab')).toBe(true);
    expect(JSON.parse((await run(['audit', 'show', '--since', '2999-01-01', '-o', 'json'])).stdout).entries).toEqual([]);
    const bad = await run(['audit', 'show', '--since', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: must be a duration back from now .* or a date/);
    const table = await run(['audit', 'show', '--operator', 'anna']);
    expect(table.stdout).toMatch(/OPERATOR\s+TICKET\s+PANEL\s+ACTION\s+SLOT\s+NAME\s+OUTCOME/);
    expect(table.stdout).toMatch(/users\.set-code\s+6\s+Audit Anna\s+ok/);
    expect(table.stdout).not.toMatch(/PAGED/);
  });

  it('pages through $PAGER on a terminal only (like git), and not with --no-pager', async () => {
    const env = { ...sandbox.env, PAGER: "sed 's/^/PAGED /'" };
    const paged = new TtySession(['audit', 'show'], env);
    await paged.expect(/PAGED\s+SEQ\s+TIME/);
    expect((await paged.exit()).exitCode).toBe(0);
    const direct = new TtySession(['audit', 'show', '--no-pager'], env);
    await direct.expect(/SEQ\s+TIME/);
    expect((await direct.exit()).exitCode).toBe(0);
    expect(direct.text).not.toMatch(/PAGED/);
  });
});

describe.skipIf(!haveSocat)('ports --all', () => {
  it('lists the ends of a socat pair (pseudo-terminals) only with --all, and says so without', async () => {
    const pair = await makePtyPair();
    try {
      const plain = await run(['ports', '-o', 'json']);
      expect(plain.code, plain.stderr).toBe(0);
      expect(JSON.parse(plain.stdout).ports.map((p: { path: string }) => p.path)).not.toContain(pair.a);
      const table = await run(['ports']);
      expect(table.stderr).toMatch(/pseudo-terminals .* are not listed: add --all/);
      const all = await run(['ports', '--all', '-o', 'json']);
      const paths = JSON.parse(all.stdout).ports.map((p: { path: string }) => p.path);
      expect(paths).toEqual(expect.arrayContaining([pair.a, pair.b]));
    } finally {
      await pair.close();
    }
  });
});

describe('progress of a long read', () => {
  it('users list on a terminal shows slots read of the total in the spinner', async () => {
    sim.setFaults({ latencyMs: 120 });
    const t = new TtySession(['users', 'list', '--panel', 'lab'], { ...sandbox.env, LAB_CODE: MASTER });
    await t.expect(/reading the users of lab: \d+ of \d+ slots/, 15_000);
    await t.expect(/SLOT\s+KIND\s+NAME/, 30_000);
    expect((await t.exit()).exitCode).toBe(0);
  });

  it('prints no progress without a terminal', async () => {
    const result = await run(['users', 'list', '--panel', 'lab']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/slots/);
  });
});

describe('SIGTERM during a one-shot write', () => {
  it('winds down like Ctrl-C, exits 143, and says the keypad (not a listing) can tell whether a code landed', async () => {
    sim.setFaults({ latencyMs: 1500 });
    const before = connections;
    const { child, stderr, exited } = startCli(
      ['users', 'set-code', '--panel', 'lab', '--slot', '2', '--code-stdin'],
      { ...sandbox.env, LAB_CODE: MASTER },
      '750316\n',
    );
    await waitFor(() => connections > before, stderr);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr()).toMatch(/interrupted \(SIGTERM\) while talking to the panel/);
    expect(stderr()).toMatch(/try the new code at the keypad, or run the same set-code again/);
  });
});
