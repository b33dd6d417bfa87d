import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { KEY, TtySession } from '../support/tty.js';
import { screenRows } from '../support/screen.js';

/**
 * `panelctl` with no arguments on a terminal: the real binary in a pseudo-terminal, typed at
 * like a support engineer would, against the built-in demo panel (its memory is a JSON file in
 * the sandbox) and against an INTEGRA simulator this test runs (whose write counter proves that
 * a cancelled flow sent nothing). Screens are checked for the codes typed: they never show.
 */

interface AuditLine {
  operator: string;
  ticket?: string;
  panel: string;
  action: string;
  slot?: number;
  name?: string;
  outcome: string;
}

let sandbox: Sandbox;
let sessions: TtySession[] = [];

function shell(args: string[] = [], env: NodeJS.ProcessEnv = {}): TtySession {
  const session = new TtySession(args, { ...sandbox.env, ...env });
  sessions.push(session);
  return session;
}

async function demoUsers(): Promise<Record<string, { name: string; code: string; partitions: number[] }>> {
  return JSON.parse(await fs.readFile(path.join(sandbox.dir, 'demo', 'integra.json'), 'utf8')).users;
}

async function auditLines(): Promise<AuditLine[]> {
  const text = await fs.readFile(path.join(sandbox.stateDir, 'audit.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** At the panel search: types `term`, waits for `entry` to be the highlighted result, takes it. */
async function openPanel(t: TtySession, term: string, entry: RegExp): Promise<void> {
  await t.expect(/Panel \(type a name, customer, account or tag\):/);
  t.send(term);
  await t.expect(new RegExp(`❯ ${entry.source}`));
  t.send(KEY.enter);
  await t.expect(/SLOT\s+KIND\s+NAME/);
}

/** On nordic-oslo's menu: "Add a user", a name, the slot (Enter takes the first free one), no partitions, "Type it". */
async function addUpToTheCode(t: TtySession, name: string, slot = ''): Promise<void> {
  await t.pick(/What now on nordic-oslo\?/, /Add a user/);
  await t.expect(/Name of the new user:/);
  t.line(name);
  await t.expect(/Slot/);
  t.line(slot);
  await t.expect(/Partitions/);
  t.send(KEY.enter);
  await t.pick(/New code \(4-8 digits\):/, /Type it/);
}

async function typeCodeTwice(t: TtySession, first: string, second = first): Promise<void> {
  await t.expect(/New code:/);
  t.line(first);
  await t.expect(/New code again:/);
  t.line(second);
}

/** In a user list (type-ahead): types the slot and takes that user. */
async function pickSlot(t: TtySession, slot: number, name: string): Promise<void> {
  t.send(String(slot));
  await t.expect(new RegExp(`❯\\s+${slot}  ${name}`));
  t.send(KEY.enter);
}

beforeEach(async () => {
  sandbox = await makeSandbox();
});

afterEach(async () => {
  for (const session of sessions) session.kill();
  sessions = [];
  await sandbox.cleanup();
});

describe('panelctl shell without a terminal', () => {
  it('with no arguments prints help and exits 2; `shell` is a usage error; neither waits for input', async () => {
    const bare = await sandbox.run([], { timeoutMs: 10_000 });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/Usage: panelctl/);
    expect(bare.stderr).toMatch(/shell \[options\]\s+guided interactive mode/);

    const explicit = await sandbox.run(['shell'], { timeoutMs: 10_000 });
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toMatch(/needs a terminal/);
    expect(explicit.stdout).toBe('');
  });
});

describe('panelctl shell on the demo panel', () => {
  it('adds a user with a typed code, then changes it after a mismatched entry; the ticket is asked once', async () => {
    const t = shell();
    await openPanel(t, 'demo', /demo {2}\(account 0000/);

    await t.pick(/What now on demo\?/, /Add a user/);
    await t.expect(/Ticket for this call \(Enter for none\):/);
    t.line('T-1001');
    await t.expect(/Name of the new user:/);
    t.line('New employee');
    await t.expect(/Slot \(Enter for the first free one\): \(13\)/);
    t.send(KEY.enter);
    await t.expect(/Partitions, e\.g\. 1,2/);
    t.line('1,2');
    await t.pick(/New code \(4-8 digits\):/, /Type it/);
    await typeCodeTwice(t, '730518');
    await t.expect(/Add "New employee" in slot 13 on demo, partitions 1,2, with the code you typed\?/);
    t.line('y');
    await t.expect(/✓ added slot 13 "New employee" on demo \(verified by reading it back\)/);
    await t.expect(/13\s+user\s+New employee\s+normal\s+1,2\s+set/);
    expect((await demoUsers())['13']).toMatchObject({ name: 'New employee', code: '730518', partitions: [1, 2] });

    // "I have forgotten my code": the second entry differs, so both are asked again.
    await t.pick(/What now on demo\?/, /Change a code/);
    await t.expect(/Whose code\?/);
    await pickSlot(t, 13, 'New employee');
    await t.pick(/New code \(4-8 digits\):/, /Type it/);
    await typeCodeTwice(t, '481927', '481928');
    await t.expect(/the two entries differ; try again/);
    expect((await demoUsers())['13'].code).toBe('730518');
    // A code the policy refuses is asked for again at once, before its second entry.
    await t.expect(/New code:/);
    t.line('1234');
    await t.expect(/straight run.*; try another/);
    expect(t.text).not.toMatch(/--allow-weak/);
    await typeCodeTwice(t, '481927');
    await t.expect(/Change the code of user 13 "New employee" on demo\? The old code stops working\./);
    t.line('y');
    await t.expect(/✓ changed the code of user 13 "New employee" on demo \(verified\)/);
    expect((await demoUsers())['13'].code).toBe('481927');

    await t.pick(/What now on demo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);

    expect(t.text.match(/✔ Ticket for this call/g)).toHaveLength(1);
    expect(await auditLines()).toEqual([
      expect.objectContaining({ operator: 'e2e-tester', ticket: 'T-1001', panel: 'demo', action: 'users.add', slot: 13, name: 'New employee', outcome: 'ok' }),
      expect.objectContaining({ operator: 'e2e-tester', ticket: 'T-1001', panel: 'demo', action: 'users.set-code', slot: 13, outcome: 'ok' }),
    ]);
    for (const code of ['730518', '481927', '481928']) expect(t.text).not.toContain(code);
    expect(await sandbox.allWrittenText()).not.toMatch(/730518|481927/);
  });

  it('generates a code, shows it once after it is verified, then clears it from the screen', async () => {
    const t = shell(['--ticket', 'T-2002', 'shell', '--panel', 'demo']);
    await t.pick(/What now on demo\?/, /Change a code/);
    await t.expect(/Whose code\?/);
    t.send('lar');
    await t.expect(/❯\s+2 {2}Lars/);
    t.send(KEY.enter);
    await t.pick(/New code \(4-8 digits\):/, /Generate one/);
    await t.expect(/Change the code of user 2 "Lars" on demo to a generated code\?/);
    t.line('y');
    await t.expect(/✓ changed the code of user 2 "Lars" on demo \(verified\)/);
    const [, shown] = await t.expect(/New code for user 2 "Lars": (\d{6})/);
    await t.expect(/Read it to the customer now: it is not shown again\./);
    expect((await demoUsers())['2'].code).toBe(shown);

    await t.expect(/Press Enter when the customer has it/);
    t.send(KEY.enter);
    await t.expect(/the new code for user 2 "Lars" was shown and cleared/);
    // Taken off the screen: a terminal replaying the output holds no trace of it.
    expect((await screenRows(t.output, { cols: 120, rows: 40 })).join('\n')).not.toMatch(new RegExp(`${shown}|New code for`));
    await t.expect(/What now on demo\?/);
    t.send(KEY.ctrlC);
    expect((await t.exit()).exitCode).toBe(130);

    expect(t.text.split(shown)).toHaveLength(2); // shown exactly once
    expect(await auditLines()).toEqual([expect.objectContaining({ action: 'users.set-code', slot: 2, ticket: 'T-2002', outcome: 'ok' })]);
    expect(await sandbox.allWrittenText()).not.toContain(shown);
  });

  it('clears a generated code whose line wraps on a narrow terminal (every row it took)', async () => {
    const size = { cols: 30, rows: 40 };
    const t = new TtySession(['--ticket', 'T-2003', 'shell', '--panel', 'demo'], sandbox.env, size);
    sessions.push(t);
    await t.pick(/What now on demo\?/, /Change a code/);
    await t.expect(/Whose code\?/);
    t.send('lar');
    await t.expect(/❯\s+2 {2}Lars/);
    t.send(KEY.enter);
    await t.pick(/New code \(4-8 digits\):/, /Generate one/);
    await t.expect(/generated\s+code\?/);
    t.line('y');
    await t.expect(/Press\s+Enter/);
    const shown = (await demoUsers())['2'].code;
    // The line "  New code for user 2 "Lars": NNNNNN" is wider than 30 columns: it wrapped.
    const before = (await screenRows(t.output, size)).join('');
    expect(before).toContain(shown);
    t.send(KEY.enter);
    await t.expect(/shown\s+and\s+cleared/);
    await t.expect(/What\s+now\s+on\s+demo\?/);
    const after = await screenRows(t.output, size);
    expect(after.join('')).not.toContain(shown);
    expect(after.join('\n')).not.toMatch(/New code for|Read it to the customer/);
    // Nor any wrapped piece of it: no row after the question holds four of its digits in a row.
    const tail = after.slice(after.findIndex((row) => /Whose code/.test(row)));
    for (let i = 0; i + 4 <= shown.length; i++) expect(tail.filter((row) => row.includes(shown.slice(i, i + 4)))).toEqual([]);
    t.send(KEY.ctrlC);
    expect((await t.exit()).exitCode).toBe(130);
  });

  it('removes a user only after confirming, asking who is acting when nobody said', async () => {
    const t = shell(['shell'], { PANELCTL_OPERATOR: undefined, PANELCTL_TICKET: 'T-3003' });
    await openPanel(t, 'demo', /demo {2}\(account 0000/);

    await t.pick(/What now on demo\?/, /Remove a user/);
    await t.expect(/Your name, for the audit log:/);
    t.line('Kim');
    await t.expect(/Remove which user\?/);
    t.send('ingr');
    await t.expect(/❯\s+3 {2}Ingrid/);
    t.send(KEY.enter);
    await t.expect(/Remove user 3 "Ingrid" from demo\? Their code will stop working\. \(y\/N\)/);
    t.send(KEY.enter); // the default is no
    await t.expect(/Not done: nothing was changed\./);
    expect((await demoUsers())['3']).toBeDefined();

    await t.pick(/What now on demo\?/, /Remove a user/);
    await t.expect(/Remove which user\?/);
    await pickSlot(t, 3, 'Ingrid');
    await t.expect(/Remove user 3 "Ingrid" from demo\?/);
    t.line('y');
    await t.expect(/✓ removed user 3 "Ingrid" from demo \(verified: the slot reads back empty\)/);
    expect((await demoUsers())['3']).toBeUndefined();

    await t.pick(/What now on demo\?/, /Show the audit log for this panel/);
    await t.expect(/users\.remove\s+3\s+.*\bok/); // the NAME column may stand between
    await t.pick(/What now on demo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);

    expect(t.text.match(/✔ Your name, for the audit log/g)).toHaveLength(1);
    expect(await auditLines()).toEqual([
      expect.objectContaining({ operator: 'Kim', ticket: 'T-3003', action: 'users.remove', slot: 3, name: 'Ingrid', outcome: 'ok' }),
    ]);
  });

  it('starts and stops test mode: the operator confirms the call to the station, and the lease follows', async () => {
    const t = shell(['shell'], { PANELCTL_TICKET: 'T-4004' });
    await openPanel(t, 'demo', /demo {2}\(account 0000/);
    const leaseFile = path.join(sandbox.stateDir, 'leases', 'demo.json');

    await t.pick(/What now on demo\?/, /Start test mode/);
    await t.expect(/For how long\?/);
    t.line('');
    await t.expect(/Reason \(Enter for none\):/);
    t.line('bell test');
    await t.expect(/Put demo \(account 0000\) on test for 45m\? The station is told first; panelctl offers no test mode for this panel/);
    t.line('y');
    await t.expect(/Call the monitoring station and ask them to put account 0000 \(demo\) ON TEST/);
    await t.expect(/Has the station confirmed\?/);
    t.line('y');
    await t.expect(/✓ demo is ON TEST until/);
    const lease = JSON.parse(await fs.readFile(leaseFile, 'utf8'));
    expect(lease).toMatchObject({ panel: 'demo', reason: 'bell test', ticket: 'T-4004', station: 'manual', stationOnTest: true, panelTest: 'none' });
    expect(Date.parse(lease.until) - Date.parse(lease.from)).toBe(45 * 60_000);

    await t.pick(/What now on demo\?/, /Stop test mode/);
    await t.expect(/End test mode on demo \(on test until/);
    t.line('y');
    await t.expect(/take account 0000 \(demo\) OFF TEST/);
    await t.expect(/Has the station confirmed\?/);
    t.line('y');
    await t.expect(/✓ demo is off test/);
    await expect(fs.access(leaseFile)).rejects.toThrow();
    await t.pick(/What now on demo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);
    expect((await auditLines()).map((a) => [a.action, a.outcome])).toEqual([
      ['test-mode.start', 'ok'],
      ['test-mode.stop', 'ok'],
    ]);
  });

  it('offers what was typed for an add that did not happen as the answers next time', async () => {
    const t = shell(['--ticket', 'T-4007', 'shell', '--panel', 'demo']);
    await t.pick(/What now on demo\?/, /Add a user/);
    await t.expect(/Name of the new user:/);
    t.line('Kept Name');
    await t.expect(/Slot/);
    t.line('20');
    await t.expect(/Partitions/);
    t.line('2');
    await t.pick(/New code \(4-8 digits\):/, /Type it/);
    await typeCodeTwice(t, '730518');
    await t.expect(/Add "Kept Name" in slot 20 on demo, partitions 2, with the code you typed\?/);
    t.line('n');
    await t.expect(/Not done: nothing was changed/);
    await t.pick(/What now on demo\?/, /Add a user/);
    await t.expect(/Name of the new user: \(Kept Name\)/);
    t.send(KEY.enter);
    await t.expect(/Slot \(Enter for the first free one\): \(20\)/);
    t.send(KEY.enter);
    await t.expect(/Partitions, e\.g\. 1,2 \(Enter for the panel's default\): \(2\)/);
    t.send(KEY.enter);
    await t.pick(/New code \(4-8 digits\):/, /Type it/);
    await typeCodeTwice(t, '730518');
    await t.expect(/Add "Kept Name" in slot 20 on demo, partitions 2, with the code you typed\?/);
    t.line('y');
    await t.expect(/✓ added slot 20 "Kept Name" on demo/);
    await t.pick(/What now on demo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);
    expect((await demoUsers())['20']).toMatchObject({ name: 'Kept Name', partitions: [2] });
  });

  it('marks the users view ON TEST, and quitting while on test offers to end it', async () => {
    const t = shell(['shell', '--panel', 'demo'], { PANELCTL_TICKET: 'T-4005' });
    const leaseFile = path.join(sandbox.stateDir, 'leases', 'demo.json');
    await t.pick(/What now on demo\?/, /Start test mode/);
    await t.expect(/For how long\?/);
    t.line('');
    await t.expect(/Reason \(Enter for none\):/);
    t.line('');
    await t.expect(/Put demo/);
    t.line('y');
    await t.expect(/Has the station confirmed\?/);
    t.line('y');
    await t.expect(/✓ demo is ON TEST until/);
    await t.pick(/What now on demo\?/, /Show the users again/);
    await t.expect(/ON TEST until .* \(by e2e-tester\)\s+SLOT\s+KIND\s+NAME/);
    await t.pick(/What now on demo\?/, /Quit/);
    await t.expect(/demo is still ON TEST until .*\. End test mode on it now \(panel and station\)\?/);
    t.line('y');
    await t.expect(/take account 0000 \(demo\) OFF TEST/);
    await t.expect(/Has the station confirmed\?/);
    t.line('y');
    await t.expect(/✓ demo is off test/);
    expect((await t.exit()).exitCode).toBe(0);
    await expect(fs.access(leaseFile)).rejects.toThrow();
  });

  it('on a DSC: the menu does not promise a name, and the header shows model, firmware and module', async () => {
    const t = shell(['shell', '--panel', 'demo-dsc'], { PANELCTL_TICKET: 'T-4006' });
    await t.expect(/demo-dsc\s+account \d+ \| DSC PowerSeries, firmware not reported, via Envisalink TPI/);
    await t.expect(/What now on demo-dsc\?/);
    await t.expect(/a new user: a slot and a code \(this panel keeps no names\)/);
    expect(t.text).not.toMatch(/a new user with a name/);
    t.send(KEY.ctrlC);
    expect((await t.exit()).exitCode).toBe(130);
  });

  it('exits 130 on Ctrl-C at the panel search; colour only when wanted', async () => {
    const colours = /\x1b\[(1|2|3\d|9\d)m/;
    const coloured = shell([], { NO_COLOR: undefined });
    await coloured.expect(/Panel \(type a name/);
    coloured.send('dem');
    coloured.send(KEY.ctrlC);
    await coloured.expect(/Bye\./);
    expect((await coloured.exit()).exitCode).toBe(130);
    expect(coloured.output).toMatch(colours);

    const plain = shell(['--no-color', 'shell'], { NO_COLOR: undefined });
    await plain.expect(/Panel \(type a name/);
    plain.send(KEY.ctrlC);
    expect((await plain.exit()).exitCode).toBe(130);
    expect(plain.output).not.toMatch(colours);
  });
});

describe('panelctl shell against an INTEGRA simulator: Ctrl-C anywhere', () => {
  type Sim = Awaited<ReturnType<typeof createSimulator>>;
  let sim: Sim;
  let server: TcpServerHandle;
  const MASTER = '73918264';

  beforeAll(async () => {
    sim = await createSimulator({ users: 5 });
    sim.state.users[241].code = MASTER;
    server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
  });

  afterAll(async () => {
    await server.close();
    await sim.close();
  });

  beforeEach(async () => {
    sim.setFaults({ latencyMs: 0 });
    await sandbox.writeInventory(
      `panels:\n  nordic-oslo:\n    driver: integra\n    link: tcp://127.0.0.1:${server.port}\n    secret: env:LAB_CODE\n    account: "7001"\n    customer: Nordic Retail AS\n    tags: { site: oslo }\n` +
        `  bergen-typed:\n    driver: integra\n    link: tcp://127.0.0.1:${server.port}\n    secret: prompt\n    account: "7002"\n`,
    );
  });

  it('backs out of every flow with nothing sent, and quits with 130 from the menu', async () => {
    const before = JSON.stringify(sim.state.users);
    const t = shell([], { LAB_CODE: MASTER, PANELCTL_TICKET: 'T-4004' });
    await openPanel(t, 'nordic 7001', /nordic-oslo {2}\(Nordic Retail AS, account 7001/);
    const writes = sim.stats.writes;
    const backAtMenu = async () => {
      await t.expect(/Cancelled: nothing was changed\./);
    };

    // Add: at the name, at the second code entry, at the confirmation.
    await t.pick(/What now on nordic-oslo\?/, /Add a user/);
    await t.expect(/Name of the new user:/);
    t.send('Half');
    t.send(KEY.ctrlC);
    await backAtMenu();

    await addUpToTheCode(t, 'Temp');
    await t.expect(/New code:/);
    t.line('592038');
    await t.expect(/New code again:/);
    t.send('5920');
    t.send(KEY.ctrlC);
    await backAtMenu();

    await addUpToTheCode(t, 'Temp');
    await typeCodeTwice(t, '592038');
    await t.expect(/Add "Temp" in slot 6 on nordic-oslo, with the code you typed\?/);
    t.send(KEY.ctrlC);
    await backAtMenu();

    // Change a code: at the user search, and at the code choice.
    await t.pick(/What now on nordic-oslo\?/, /Change a code/);
    await t.expect(/Whose code\?/);
    t.send('an');
    t.send(KEY.ctrlC);
    await backAtMenu();

    await t.pick(/What now on nordic-oslo\?/, /Change a code/);
    await t.expect(/Whose code\?/);
    await pickSlot(t, 1, 'Anna');
    await t.expect(/New code \(4-8 digits\):/);
    t.send(KEY.ctrlC);
    await backAtMenu();

    // Remove: at the confirmation, asked in the middle of the operation.
    await t.pick(/What now on nordic-oslo\?/, /Remove a user/);
    await t.expect(/Remove which user\?/);
    await pickSlot(t, 2, 'Lars');
    await t.expect(/Remove user 2 "Lars" from nordic-oslo\?/);
    t.send(KEY.ctrlC);
    await backAtMenu();

    // A slow read is aborted at once.
    sim.setFaults({ latencyMs: 400 });
    await t.pick(/What now on nordic-oslo\?/, /Show the users again/);
    await t.expect(/reading the users of nordic-oslo/);
    t.send(KEY.ctrlC);
    await backAtMenu();
    sim.setFaults({ latencyMs: 0 });

    expect(sim.stats.writes).toBe(writes);
    expect(JSON.stringify(sim.state.users)).toBe(before);
    expect(await auditLines()).toEqual([]);

    // At the menu: wait for it to be drawn again, or the key goes to the read that is still winding down.
    await t.expect(/What now on nordic-oslo\?/);
    t.send(KEY.ctrlC);
    await t.expect(/Bye\./);
    expect((await t.exit()).exitCode).toBe(130);
    expect(sim.stats.writes).toBe(writes);
    for (const code of ['592038', MASTER]) expect(t.text).not.toContain(code);
  });

  it('lets a change that is being written finish and verify when Ctrl-C comes mid-write', async () => {
    const t = shell(['shell', '--panel', 'nordic-oslo'], { LAB_CODE: MASTER, PANELCTL_TICKET: 'T-5005' });
    await addUpToTheCode(t, 'Late', '30'); // typing replaces the offered first free slot
    await typeCodeTwice(t, '640913');
    await t.expect(/Add "Late" in slot 30 on nordic-oslo/);
    sim.setFaults({ latencyMs: 150 });
    t.line('y');
    await t.expect(/adding "Late" to nordic-oslo/);
    t.send(KEY.ctrlC);
    await t.expect(/finishing this change first/);
    await t.expect(/✓ added slot 30 "Late" on nordic-oslo \(verified by reading it back\)/, 15_000);
    // Ctrl-C while the users are read again afterwards must not say "nothing was changed".
    await t.expect(/reading the users of nordic-oslo/);
    t.send(KEY.ctrlC);
    await t.expect(/the users were not read again \(cancelled\); the change above is done and verified/);
    sim.setFaults({ latencyMs: 0 });
    expect(sim.state.users[30]).toMatchObject({ name: 'Late', code: '640913' });
    await t.pick(/What now on nordic-oslo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);
    expect(await auditLines()).toEqual([expect.objectContaining({ action: 'users.add', slot: 30, ticket: 'T-5005', outcome: 'ok' })]);
    expect(t.text).not.toContain('640913');
    expect(t.text).not.toMatch(/nothing was changed/);
  });

  it('lets a mistyped credential be typed again, short of the lockout; a refused configured one is not retried', async () => {
    const t = shell([], { PANELCTL_TICKET: 'T-6006', LAB_CODE: '11223344' });
    const choose = async (term: string, entry: RegExp) => {
      await t.expect(/Panel \(type/);
      t.send(term);
      await t.expect(entry);
      t.send(KEY.enter);
    };
    await choose('7002', /❯ bergen-typed/);
    await t.expect(/INTEGRA user code with the users-editing right for bergen-typed/);
    t.line('90817263');
    await t.expect(/error: the panel does not recognise the code/);
    await t.expect(
      /the credential typed for bergen-typed was refused \(1 wrong entry so far; panelctl stops at 2\) \(INTEGRA panels may block the keypad for 90 seconds, or raise an alarm, after 3 wrong codes\)/,
    );
    await choose('7002', /❯ bergen-typed/);
    await t.expect(/INTEGRA user code with the users-editing right for bergen-typed/);
    t.line('90817264');
    await t.expect(/2 wrong entries on bergen-typed: panelctl will not try it again in this session/);
    await choose('7002', /❯ bergen-typed/);
    await t.expect(/bergen-typed refused its credential earlier in this session/);
    // The configured credential (env:LAB_CODE) is wrong: not tried again, and the inventory is to blame.
    await choose('7001', /❯ nordic-oslo/);
    await t.expect(/will not use the configured credential on nordic-oslo again in this session .*; fix it in the inventory/);
    await t.expect(/Panel \(type/);
    t.send(KEY.ctrlC);
    expect((await t.exit()).exitCode).toBe(130);

    // A new session, typed right: asked once, however many times panelctl reconnects.
    const connections = sim.stats.connections;
    const again = shell(['shell', '--panel', 'bergen-typed'], { PANELCTL_TICKET: 'T-6006' });
    await again.expect(/user code with the users-editing right for bergen-typed/);
    again.line(MASTER);
    await again.pick(/What now on bergen-typed\?/, /Show the users again/);
    await again.expect(/SLOT\s+KIND\s+NAME/);
    await again.pick(/What now on bergen-typed\?/, /Quit/);
    expect((await again.exit()).exitCode).toBe(0);
    expect(sim.stats.connections - connections).toBe(3); // panel info, users, users again
    expect(again.text.match(/✔ INTEGRA user code/g)).toHaveLength(1);
    for (const text of [t.text, again.text]) {
      expect(text).not.toContain(MASTER);
      expect(text).not.toContain('90817263');
    }
  });

  it('checks a new name at its own prompt with the INTEGRA rules, naming the character and keeping what was typed', async () => {
    const t = shell(['shell', '--panel', 'nordic-oslo'], { LAB_CODE: MASTER, PANELCTL_TICKET: 'T-7007' });
    await t.pick(/What now on nordic-oslo\?/, /Add a user/);
    await t.expect(/Name of the new user:/);
    t.line('Bjørn');
    await t.expect(/the name "ø" \(U\+00F8\) is not in Windows-1250/);
    // What was typed is still there: one backspace takes off its last letter.
    for (const left of ['Bjør', 'Bjø', 'Bj']) {
      t.send(KEY.backspace);
      await t.expect(new RegExp(`Name of the new user: ${left}(?![nrø])`));
    }
    t.line('orn');
    await t.expect(/Slot/);
    t.send(KEY.ctrlC);
    await t.expect(/Cancelled: nothing was changed\./);
    await t.pick(/What now on nordic-oslo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);
    expect(t.text).not.toMatch(/--name/);
  });

  it('offers to type an env: credential that is not set, for this session only', async () => {
    const t = shell([], { LAB_CODE: undefined, PANELCTL_TICKET: 'T-8008' });
    await t.expect(/Panel \(type/);
    // With an inventory, the built-in demo panels are not offered in the search.
    t.send('demo');
    await t.expect(/no panel matches "demo"/);
    t.send(KEY.backspace.repeat(4));
    await t.expect(/❯ nordic-oslo/);
    t.send('olso'); // a typo is forgiven
    await t.expect(/❯ nordic-oslo/);
    t.send(KEY.enter);
    await t.expect(/LAB_CODE is not set, so the credential for nordic-oslo is missing\. Type it now \(kept in memory for this session only\)\?/);
    t.line('y');
    await t.expect(/INTEGRA user code with the users-editing right for nordic-oslo/);
    t.line(MASTER);
    await t.expect(/SLOT\s+KIND\s+NAME/);
    await t.pick(/What now on nordic-oslo\?/, /Show the users again/);
    await t.expect(/SLOT\s+KIND\s+NAME/);
    await t.pick(/What now on nordic-oslo\?/, /Quit/);
    expect((await t.exit()).exitCode).toBe(0);
    expect(t.text.match(/✔ INTEGRA user code/g)).toHaveLength(1);
    expect(t.text).not.toContain(MASTER);
  });
});
