import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type DscSimulator } from '../../drivers/dsc/simulator.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, secretsIn, startCli, waitFor, type CliResult, type Sandbox } from '../support/cli.js';
import { servedSimulators } from '../support/served.js';

/**
 * The real panelctl binary against the DSC simulator behind a simulated Envisalink on a real TCP
 * port (TPI password login). The panel uses 6-digit codes, so every code can be searched for in
 * everything the tool printed or wrote without matching by chance.
 */

const MASTER = '738215';
const TPI = 'Qv7tZp';
const INSTALLER = '946027';

const simulators = servedSimulators();
let sim: DscSimulator;
let locky: DscSimulator;
let it100: DscSimulator;
let noText: DscSimulator;
let port: number;
let lockyPort: number;
let it100Port: number;
let noTextPort: number;
let sandbox: Sandbox;
const outputs: CliResult[] = [];
const secretsUsed = new Set<string>([MASTER, TPI, INSTALLER]);

async function panelctl(args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const result = await sandbox.run(args, { input, env: { DSC_MASTER: MASTER, DSC_TPI: TPI, DSC_INSTALLER: INSTALLER, ...env } });
  outputs.push(result);
  return result;
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  const options = { codeLength: 6, tpiPassword: TPI, masterCode: MASTER, installerCode: INSTALLER };
  sim = await createSimulator({ users: 4, options });
  port = await simulators.serve(sim);
  locky = await createSimulator({ users: 1, options: { ...options, lockoutAfter: 2, lockoutMs: 60_000 } });
  lockyPort = await simulators.serve(locky);
  // An IT-100 behind a serial-to-TCP converter, 4-digit codes: it wants them padded to six in the 200.
  it100 = await createSimulator({ users: 1, options: { mode: 'it100', masterCode: '4826', installerCode: INSTALLER.slice(0, 4) } });
  it100Port = await simulators.serve(it100);
  // An Envisalink that sends no LCD text (what the public sources show): `--set lcdText=false`.
  noText = await createSimulator({ users: 2, options: { ...options, lcdText: false } });
  noTextPort = await simulators.serve(noText);
  const it100Panel = (name: string, extra: string) =>
    `  ${name}:\n    driver: dsc\n    link: tcp://127.0.0.1:${it100Port}\n    secret: env:IT100_MASTER\n    options: { module: it100${extra} }\n`;
  const panel = (port: number) =>
    `    driver: dsc\n    link: tcp://127.0.0.1:${port}\n    secret: env:DSC_MASTER\n    secrets: { tpiPassword: env:DSC_TPI, installer: env:DSC_INSTALLER }\n    options: { codeLength: 6 }\n    account: "8001"\n`;
  const noInstaller = `    driver: dsc\n    link: tcp://127.0.0.1:${port}\n    secret: env:DSC_MASTER\n    secrets: { tpiPassword: env:DSC_TPI }\n    options: { codeLength: 6 }\n    account: "8002"\n    station: { type: manual }\n`;
  await sandbox.writeInventory(
    `stations:\n  quiet:\n    type: none\npanels:\n  shop:\n${panel(port)}    station: quiet\n  locky:\n${panel(lockyPort)}  no-installer:\n${noInstaller}${it100Panel('it100', '')}${it100Panel('it100-unpadded', ', padCodes: false')}  no-text:\n${panel(noTextPort)}  evl-no-text:\n${panel(noTextPort).replace('{ codeLength: 6 }', '{ codeLength: 6, lcdText: false }')}  it100-no-text:\n    driver: dsc\n    link: serial:///dev/null\n    secret: env:IT100_MASTER\n    options: { lcdText: false }\n  prompted:\n    driver: dsc\n    link: tcp://127.0.0.1:${port}\n    secret: env:DSC_MASTER\n    secrets: { tpiPassword: env:DSC_TPI, installer: prompt }\n    options: { codeLength: 6 }\n    account: "8003"\n    station: quiet\n`,
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

beforeEach(() => sim.setFaults({ busy: false, latencyMs: 0, dropReplies: 0, corruptChecksum: 0, dropAfterKeys: 0 }));

describe('panelctl against the DSC simulator (Envisalink TPI)', () => {
  it('lists programmed slots with their kinds, never codes, and leaves the keypad idle', async () => {
    const json = await panelctl(['users', 'list', '--panel', 'shop', '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const { users } = JSON.parse(json.stdout);
    expect(users.map((u: { slot: number; kind: string }) => [u.slot, u.kind])).toEqual([
      [1, 'user'],
      [2, 'user'],
      [3, 'user'],
      [4, 'user'],
      [40, 'master'],
    ]);
    expect(users[0]).toMatchObject({ hasCode: true });
    expect(users[0].name ?? null).toBeNull(); // DSC keeps no names
    expect(sim.keypadMode).toBe('idle');

    const table = await panelctl(['users', 'list', '--panel', 'shop']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/master/);
    for (const code of Object.values(sim.state.codes)) expect(table.stdout).not.toContain(code);
  });

  it('shows info: module, 6-digit code rule, walk test capability', async () => {
    const result = await panelctl(['info', '--panel', 'shop', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const info = JSON.parse(result.stdout);
    expect(info).toMatchObject({ driver: 'dsc', module: 'Envisalink TPI', codeRules: { allowedLengths: [6] } });
    expect(info.capabilities).toEqual(expect.arrayContaining(['users.add', 'test-mode']));
  });

  it('adds, changes and removes a code, each verified by reading the LCD back', async () => {
    secretsUsed.add('582016').add('719354');
    // DSC keeps no names: one given is refused, not silently dropped.
    const named = await panelctl(['users', 'add', '--panel', 'shop', '--slot', '20', '--name', 'Cleaner', '--code-stdin'], '582016\n');
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/--name: dsc panels keep no user names; leave it out/);
    expect(sim.state.codes[20]).toBeUndefined();
    const add = await panelctl(['users', 'add', '--panel', 'shop', '--slot', '20', '--code-stdin', '-o', 'json'], '582016\n');
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ verified: true, proof: 'read-back', user: { slot: 20, kind: 'user', hasCode: true } });
    expect(sim.state.codes[20]).toBe('582016');

    const change = await panelctl(['users', 'set-code', '--panel', 'shop', '--slot', '20', '--code-stdin'], '719354\n');
    expect(change.code, change.stderr).toBe(0);
    expect(sim.state.codes[20]).toBe('719354');

    const remove = await panelctl(['users', 'remove', '--panel', 'shop', '--slot', '20', '--yes', '-o', 'json']);
    expect(remove.code, remove.stderr).toBe(0);
    expect(JSON.parse(remove.stdout)).toMatchObject({ verified: true, proof: 'read-back' });
    expect(sim.state.codes[20]).toBeUndefined();
    expect(sim.keypadMode).toBe('idle');
  });

  it('adds in the first free user slot with --next --generate, and traces with --debug without codes', async () => {
    const result = await panelctl([
      '--debug',
      'users',
      'add',
      '--panel',
      'shop',
      '--next',
      '--generate',
      '--codes-out',
      `${sandbox.dir}/dsc-codes.csv`,
      '-o',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const slot = JSON.parse(result.stdout).user.slot;
    expect(slot).toBe(5);
    secretsUsed.add(sim.state.codes[5]);
    expect(result.stderr).toMatch(/\[tx\] 071 1/);
    expect(result.stderr).toMatch(/\[tx\] 200 \*{6}/);
  });

  it('refuses the master slot without allowMaster (no write), and a wrong-length code before connecting (exit 2)', async () => {
    const writes = sim.stats.writes;
    const master = await panelctl(['users', 'set-code', '--panel', 'shop', '--slot', '40', '--code-stdin'], '605183\n');
    expect(master.code).toBe(2);
    expect(master.stderr).toMatch(/master code/);
    expect(master.stderr).toMatch(/allowMaster/);
    expect(sim.stats.writes).toBe(writes);
    expect(sim.keypadMode).toBe('idle');
    const keys = sim.stats.keystrokes;
    const short = await panelctl(['users', 'add', '--panel', 'shop', '--slot', '21', '--code-stdin'], '6051\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/6 digits/);
    expect(sim.stats.keystrokes).toBe(keys);
  });

  it('slot rules that need no panel refuse before connecting: exit 2, no master-code entry (issue 17 item 3)', async () => {
    const before = { ...sim.stats };
    const change = await panelctl(['users', 'set-code', '--panel', 'shop', '--slot', '40', '--code-stdin'], '605183\n');
    expect(change.code, change.stderr).toBe(2);
    expect(change.stderr).toMatch(/allowMaster/);
    const remove = await panelctl(['users', 'remove', '--panel', 'shop', '--slot', '40', '--yes']);
    expect(remove.code, remove.stderr).toBe(2);
    expect(remove.stderr).toMatch(/never deleted/);
    const add = await panelctl(['users', 'add', '--panel', 'shop', '--slot', '40', '--code-stdin'], '605183\n');
    expect(add.code, add.stderr).toBe(2);
    // Nothing reached the panel: no connection, no keys, no master-code entry.
    expect(sim.stats).toMatchObject({ connections: before.connections, keystrokes: before.keystrokes, menuEntries: before.menuEntries, writes: before.writes });
  });

  it('an IT-100 gets the 4-digit master code padded to six; unpadded it answers 502 020: exit 5 naming options.padCodes (issue 17 item 5)', async () => {
    const env = { IT100_MASTER: '4826' };
    const padded = await panelctl(['users', 'list', '--panel', 'it100', '-o', 'json'], undefined, env);
    expect(padded.code, padded.stderr).toBe(0);
    const unpadded = await panelctl(['users', 'list', '--panel', 'it100-unpadded'], undefined, env);
    expect(unpadded.code, unpadded.stderr).toBe(5);
    expect(unpadded.stderr).toMatch(/502 020/);
    expect(unpadded.stderr).toMatch(/options\.padCodes/);
    expect(it100.stats.wrongCodes).toBe(0);
    expect(it100.keypadMode).toBe('idle');
  });

  it('a secret is asked for only when the operation needs it: the installer code only for test mode (issue 17 item 6)', async () => {
    // No terminal here: a prompt would fail with exit 2.
    const list = await panelctl(['users', 'list', '--panel', 'prompted', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    const info = await panelctl(['info', '--panel', 'prompted', '-o', 'json']);
    expect(info.code, info.stderr).toBe(0);
    const start = await panelctl(['test-mode', 'start', '--panel', 'prompted', '--for', '30m']);
    expect(start.code, start.stderr).toBe(2);
    expect(start.stderr).toMatch(/installer/i);
    expect(sim.state.walkTest).toBe(false);
  });

  it('a duress slot needs intent: refused in a script without --duress, written with it (issue 17 item 4)', async () => {
    const writes = sim.stats.writes;
    const connections = sim.stats.connections;
    const refused = await panelctl(['users', 'add', '--panel', 'shop', '--slot', '33', '--code-stdin'], '418257\n');
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/duress/);
    expect(refused.stderr).toMatch(/--duress/);
    const change = await panelctl(['users', 'set-code', '--panel', 'shop', '--slot', '34', '--code-stdin'], '418257\n');
    expect(change.code, change.stderr).toBe(2);
    expect(sim.stats).toMatchObject({ writes, connections });
    const added = await panelctl(['users', 'add', '--panel', 'shop', '--slot', '33', '--duress', '--code-stdin', '-o', 'json'], '418257\n');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout).user).toMatchObject({ slot: 33, kind: 'duress' });
    secretsUsed.add('418257');
    const removed = await panelctl(['users', 'remove', '--panel', 'shop', '--slot', '33', '--yes']);
    expect(removed.code, removed.stderr).toBe(0);
  });

  it('bulk plan: a duress row without duress=true is a conflict; the prompted installer code is not asked for (issue 17 items 4, 6)', async () => {
    const changes = path.join(sandbox.dir, 'duress.csv');
    const plan = path.join(sandbox.dir, 'duress-plan.json');
    await fs.writeFile(
      changes,
      'panel,action,slot,code,duress\nprompted,set-code,34,generate,\nprompted,set-code,33,generate,true\nprompted,set-code,3,generate,\n',
    );
    const result = await panelctl(['--detailed-exitcode', 'bulk', 'plan', changes, '--out', plan]);
    expect(result.code, result.stderr).toBe(8); // one conflict, not a failure to plan
    const text = await fs.readFile(plan, 'utf8');
    expect(text).toMatch(/slot 34 is a duress/);
    expect(text).not.toMatch(/installer/i);
  });

  it('an Envisalink without LCD text: exit 6 at once, naming the reason and the alternative, nothing keyed (issue 17 item 2)', async () => {
    const list = await panelctl(['users', 'list', '--panel', 'no-text']);
    expect(list.code, list.stderr).toBe(6);
    expect(list.stderr).toMatch(/no keypad text/);
    expect(list.stderr).toMatch(/IT-100/);
    // The way on: declare the module (options.lcdText: false), which works slot by slot.
    expect(list.stderr).toMatch(/lcdText: false/);
    const add = await panelctl(['users', 'add', '--panel', 'no-text', '--slot', '21', '--code-stdin'], '736194\n');
    expect(add.code, add.stderr).toBe(6);
    expect(noText.stats).toMatchObject({ keystrokes: 0, menuEntries: 0, writes: 0 });
  });

  it('an Envisalink declared without LCD text writes by slot with 071 keys, proven by the acknowledgements and the Program LED (issue 17 item 2)', async () => {
    secretsUsed.add('736194').add('285017');
    const before = { ...noText.stats };
    const add = await panelctl(['users', 'add', '--panel', 'evl-no-text', '--slot', '21', '--code-stdin', '-o', 'json'], '736194\n');
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ verified: false, proof: 'panel-ack', user: { slot: 21, hasCode: true } });
    expect(noText.state.codes[21]).toBe('736194');
    expect(noText.keypadMode).toBe('idle');

    const change = await panelctl(['users', 'set-code', '--panel', 'evl-no-text', '--slot', '21', '--code-stdin'], '285017\n');
    expect(change.code, change.stderr).toBe(0);
    expect(change.stdout + change.stderr).toMatch(/acknowledged by the panel, not read back/);
    expect(noText.state.codes[21]).toBe('285017');

    const remove = await panelctl(['users', 'remove', '--panel', 'evl-no-text', '--slot', '21', '--yes', '-o', 'json']);
    expect(remove.code, remove.stderr).toBe(0);
    expect(JSON.parse(remove.stdout)).toMatchObject({ proof: 'panel-ack' });
    expect(noText.state.codes[21]).toBeUndefined();
    // One master-code entry per write, each menu left with [#]; every key went through a 071.
    expect(noText.stats.menuEntries - before.menuEntries).toBe(3);
    expect(noText.stats.menuExitsByKey - before.menuExitsByKey).toBe(3);
    expect(noText.stats.wrongCodes).toBe(before.wrongCodes);
    expect(noText.keypadMode).toBe('idle');

    const audit = await panelctl(['audit', 'show', '--panel', 'evl-no-text', '-o', 'json']);
    const { entries } = JSON.parse(audit.stdout) as { entries: Array<{ action: string; outcome: string; proof?: string }> };
    expect(entries.map((e) => [e.action, e.outcome, e.proof])).toEqual([
      ['users.add', 'ok', 'panel-ack'],
      ['users.set-code', 'ok', 'panel-ack'],
      ['users.remove', 'ok', 'panel-ack'],
    ]);
  });

  it('an Envisalink without LCD text: what needs the slot list is exit 6 naming why and the alternatives, before connecting (issue 17 item 2)', async () => {
    const before = noText.stats.connections;
    const list = await panelctl(['users', 'list', '--panel', 'evl-no-text']);
    expect(list.code, list.stderr).toBe(6);
    expect(list.stderr).toMatch(/no keypad text/);
    expect(list.stderr).toMatch(/IT-100/);
    expect(list.stderr).toMatch(/audit show --panel evl-no-text/);
    const next = await panelctl(['users', 'add', '--panel', 'evl-no-text', '--next', '--code-stdin'], '736194\n');
    expect(next.code, next.stderr).toBe(6);
    expect(next.stderr).toMatch(/IT-100/);
    expect(noText.stats.connections).toBe(before);
    const info = await panelctl(['info', '--panel', 'evl-no-text', '-o', 'json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).capabilities).toEqual(['users.add', 'users.set-code', 'users.remove', 'probe']);
  });

  it('an Envisalink without LCD text: a wrong master code is exit 3, entered once, and the keypad stays idle (issue 17 item 2)', async () => {
    const wrong = '310947';
    secretsUsed.add(wrong);
    const before = noText.stats.wrongCodes;
    const result = await panelctl(['users', 'set-code', '--panel', 'evl-no-text', '--slot', '22', '--code-stdin'], '591736\n', { DSC_MASTER: wrong });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/refused the master code/);
    expect(noText.stats.wrongCodes - before).toBe(1);
    expect(noText.state.codes[22]).toBeUndefined();
    expect(noText.keypadMode).toBe('idle');
  });

  it('options.lcdText: false is for an Envisalink: on an IT-100 it is refused before connecting (exit 2)', async () => {
    const result = await panelctl(['users', 'add', '--panel', 'it100-no-text', '--slot', '21', '--code-stdin'], '7361\n', { IT100_MASTER: '4826' });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/options\.lcdText/);
  });

  it('a wrong master code: exit 3, entered exactly once, never shown', async () => {
    const wrong = '310947';
    secretsUsed.add(wrong);
    const before = sim.stats.wrongCodes;
    const result = await panelctl(['users', 'list', '--panel', 'shop'], undefined, { DSC_MASTER: wrong });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/refused the master code/);
    expect(result.stderr).toMatch(/will not retry/);
    expect(sim.stats.wrongCodes - before).toBe(1);
  });

  it('a locked-out keypad (658) is exit 3 and names the lockout', async () => {
    for (let i = 0; i < 2; i++) expect((await panelctl(['users', 'list', '--panel', 'locky'], undefined, { DSC_MASTER: '310947' })).code).toBe(3);
    expect(locky.stats.lockouts).toBe(1);
    const result = await panelctl(['users', 'list', '--panel', 'locky']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/locked out/);
    expect(locky.stats.wrongCodes).toBe(2);
  });

  it('a busy partition (673) is exit 4', async () => {
    sim.setFaults({ busy: true });
    const result = await panelctl(['users', 'list', '--panel', 'shop']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/busy/);
  });

  it('a line dropped mid-menu: exit 4, and the next command takes the keypad out of the menu and works', async () => {
    sim.setFaults({ dropAfterKeys: 6 });
    const dropped = await panelctl(['users', 'list', '--panel', 'shop']);
    expect(dropped.code).toBe(4);
    expect(sim.keypadMode).toBe('select');
    const next = await panelctl(['users', 'list', '--panel', 'shop', '-o', 'json']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).users.length).toBeGreaterThan(0);
    expect(sim.keypadMode).toBe('idle');
  });

  it('a wrong TPI password is exit 3 and never shown', async () => {
    secretsUsed.add('Wr0ngX');
    const result = await panelctl(['users', 'list', '--panel', 'shop'], undefined, { DSC_TPI: 'Wr0ngX' });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/TPI password/);
  });

  it('probe recognises the Envisalink without logging in', async () => {
    const failures = sim.stats.loginFailures;
    const result = await panelctl(['--timeout', '1s', 'probe', `tcp://127.0.0.1:${port}`, '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).answered).toMatchObject({ driver: 'dsc' });
    expect(sim.stats.loginFailures).toBe(failures);
  });

  it('test-mode start/status/stop runs the installer walk test on the panel and ends it', async () => {
    const start = await panelctl(['test-mode', 'start', '--panel', 'shop', '--for', '30m', '-o', 'json']);
    expect(start.code, start.stderr).toBe(0);
    expect(sim.state.walkTest).toBe(true);
    expect(sim.keypadMode).toBe('idle');
    const stop = await panelctl(['test-mode', 'stop', '--panel', 'shop', '-o', 'json']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(sim.state.walkTest).toBe(false);
  });

  it('without an installer code, test-mode start says so before the station or the panel is asked anything (exit 6)', async () => {
    const connections = sim.stats.connections;
    const start = await panelctl(['test-mode', 'start', '--panel', 'no-installer', '--for', '30m']);
    expect(start.code).toBe(6);
    expect(start.stderr).toMatch(
      /no-installer cannot be put on test: it needs the DSC installer code \(for the walk test\), and its inventory entry has no secrets.installer/,
    );
    // Known from the inventory: the panel was not contacted (it was, to ask, before the secret said so).
    expect(sim.stats.connections).toBe(connections);
    // The manual station would have refused first without a terminal: it was never reached.
    expect(start.stderr).not.toMatch(/monitoring station/);
    expect(sim.state.walkTest).toBe(false);
    expect(sim.keypadMode).toBe('idle');
  });

  it('Ctrl-C in the middle of the keypad menu leaves the menu ([#]) and exits 130; the panel is usable at once', async () => {
    secretsUsed.add('604183');
    sim.setFaults({ latencyMs: 120 });
    const { child, stderr, exited } = startCli(
      ['users', 'set-code', '--panel', 'shop', '--slot', '2', '--code-stdin'],
      { ...sandbox.env, DSC_MASTER: MASTER, DSC_TPI: TPI, DSC_INSTALLER: INSTALLER },
      '604183\n',
    );
    await waitFor(() => sim.keypadMode !== 'idle', stderr);
    child.kill('SIGINT');
    const code = await exited;
    outputs.push({ code, stdout: '', stderr: stderr() });
    sim.setFaults({ latencyMs: 0 });
    expect(code).toBe(130);
    expect(stderr()).toMatch(/interrupted: leaving the panel cleanly/);
    // No listing shows a code: the hint names what can tell (issue 19), not `users list`.
    expect(stderr()).toMatch(/try the new code at the keypad, or run the same set-code again/);
    expect(stderr()).not.toMatch(/check with `panelctl users list`/);
    expect(sim.keypadMode).toBe('idle');
    expect(sim.state.codes[2]).not.toBe('604183');
    expect((await panelctl(['users', 'list', '--panel', 'shop'])).code).toBe(0);
  });

  it('audits the writes in an intact chain', async () => {
    const show = await panelctl(['audit', 'show', '-o', 'json']);
    const { entries } = JSON.parse(show.stdout);
    expect(entries.some((e: { panel: string; action: string; outcome: string }) => e.panel === 'shop' && e.action === 'users.add' && e.outcome === 'ok')).toBe(
      true,
    );
    expect((await panelctl(['audit', 'verify'])).code).toBe(0);
  });

  it('never lets a code or the TPI password reach stdout, stderr, the audit log or a state file', async () => {
    const everything = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await sandbox.allWrittenText());
    expect(secretsIn(everything, secretsUsed), 'leaked').toEqual([]);
  });
});
