import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator as createIntegra } from '../../drivers/integra/simulator.js';
import { createSimulator as createMap, DEMO_PASSWORD, DEMO_USER, type MapSimulator } from '../../drivers/map5000/simulator.js';
import { createSimulator as createVista, type VistaSimulator } from '../../drivers/vista/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../src/transport/tcp.js';
import { type CliResult, makeSandbox, type Sandbox, secretsIn } from '../support/cli.js';

/**
 * Issue 16: one change list across INTEGRA (ETHM-1, TCP), a Bosch MAP 5000 (HTTPS REST) and a
 * VISTA behind an AlarmDecoder (ser2sock), each a real simulator on a real socket, through the
 * binary. The VISTA cannot read its users back: rows that name a slot are planned blind and
 * written with proof panel-ack; rows that need its user list are conflicts saying why. Every
 * code is checked in the simulators' state afterwards and searched for in everything printed.
 */

const MASTER = '8305';
// Codes file (row N belongs to change-list row N). The VISTA simulator's seeded users hold 2648, 7377, 2106.
const CODES = { integra: '318274', map: '482913', vistaSet: '5816', vistaAdd: '6937', vistaByName: '7048', vistaNext: '8159' };
const CHANGES = [
  'panel,action,slot,user,name,code',
  'shop,set-code,2,,,codes:new',
  'shop,remove,4,,,',
  'hq,add,40,,Jan Jansen,codes:new',
  'clinic,set-code,5,,,codes:new',
  'clinic,add,7,,,codes:new',
  'clinic,remove,4,,,',
  'clinic,set-code,,Anna,,codes:new',
  'clinic,add,,,Gate Guard,codes:new',
].join('\n');
/** Codes given by later tests, searched for too. */
const CODES_USED: string[] = [];
const CODES_FILE = ['new', CODES.integra, '', CODES.map, CODES.vistaSet, CODES.vistaAdd, '', CODES.vistaByName, CODES.vistaNext].map((c) => `${c},`).join('\n');

let sandbox: Sandbox;
let integra: Awaited<ReturnType<typeof createIntegra>> & { state: any; stats: { writes: number } };
let map: MapSimulator;
let vista: VistaSimulator;
const servers: TcpServerHandle[] = [];
const outputs: CliResult[] = [];
const env: NodeJS.ProcessEnv = { VISTA_MASTER: MASTER, MAP_PASSWORD: DEMO_PASSWORD };

async function panelctl(args: string[]): Promise<CliResult> {
  const result = await sandbox.run(args, { env, timeoutMs: 90_000 });
  outputs.push(result);
  return result;
}

const file = async (name: string, text: string, mode = 0o600) => {
  const full = path.join(sandbox.dir, name);
  await fs.writeFile(full, `${text}\n`, { mode });
  return full;
};

beforeAll(async () => {
  sandbox = await makeSandbox();
  integra = (await createIntegra({ users: 5 })) as typeof integra;
  env.INTEGRA_CODE = integra.demoSecrets().code;
  servers.push(await serveTcp('127.0.0.1', 0, (stream) => integra.accept(stream)));
  vista = await createVista({ users: 3, options: { masterCode: MASTER, statusIntervalMs: 150, keyTimeoutMs: 400 } });
  servers.push(await serveTcp('127.0.0.1', 0, (stream) => vista.accept(stream)));
  // MAP 5000 paces at one request a second; the simulator and the panel's options agree on 100 ms here (as in map5000.e2e).
  map = await createMap({ users: 5, options: { intervalMs: 100 } });
  const endpoint = await map.listen('127.0.0.1', 0);
  await sandbox.writeInventory(
    [
      'panels:',
      `  shop: { driver: integra, link: "tcp://127.0.0.1:${servers[0].port}", secret: env:INTEGRA_CODE }`,
      `  clinic: { driver: vista, link: "tcp://127.0.0.1:${servers[1].port}", secret: env:VISTA_MASTER, options: { keyIntervalMs: 20, ackTimeoutMs: 1200, keyTimeoutMs: 400 } }`,
      '  hq:',
      '    driver: map5000',
      `    link: ${endpoint.url}`,
      `    tls: { fingerprint: "${endpoint.fingerprint}" }`,
      `    options: { user: ${DEMO_USER}, requestIntervalMs: 100, overloadBackoffMs: 200 }`,
      '    secrets: { password: env:MAP_PASSWORD }',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.close();
  await integra?.close();
  await vista?.close();
  await map?.close();
  const everything = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await sandbox.allWrittenText());
  expect(secretsIn(everything, [...Object.values(CODES), ...CODES_USED, MASTER, DEMO_PASSWORD]), 'leaked').toEqual([]);
  await sandbox?.cleanup();
});

describe('bulk plan and apply across INTEGRA, MAP 5000 and VISTA', () => {
  let planFile: string;
  let codesFile: string;

  it('plans steps on each panel; VISTA rows with a slot are blind steps, rows that need its user list are conflicts saying why', async () => {
    const changes = await file('changes.csv', CHANGES, 0o644);
    codesFile = await file('codes.csv', CODES_FILE);
    planFile = path.join(sandbox.dir, 'plan.json');
    const vistaKeys = vista.stats.keys;
    const planned = await panelctl(['bulk', 'plan', changes, '--out', planFile, '--codes', codesFile, '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(vista.stats.keys).toBe(vistaKeys); // nothing to read on a VISTA: it is not even contacted
    const plan = JSON.parse(planned.stdout);
    const panel = (name: string) => plan.panels.find((p: { panel: string }) => p.panel === name);
    expect(panel('shop').steps.map((s: any) => [s.action, s.slot, s.blind ?? false])).toEqual([
      ['set-code', 2, false],
      ['remove', 4, false],
    ]);
    expect(panel('hq').steps.map((s: any) => [s.action, s.slot, s.name])).toEqual([['add', 40, 'Jan Jansen']]);
    expect(panel('clinic').steps.map((s: any) => [s.row, s.action, s.slot, s.blind])).toEqual([
      [4, 'set-code', 5, true],
      [5, 'add', 7, true],
      [6, 'remove', 4, true],
    ]);
    const conflicts = panel('clinic').conflicts;
    expect(conflicts.map((c: any) => [c.row, c.errorCode, c.code])).toEqual([
      [7, 'E_UNSUPPORTED', 'E_UNSUPPORTED'],
      [8, 'E_UNSUPPORTED', 'E_UNSUPPORTED'],
    ]);
    expect(conflicts[0].reason).toMatch(
      /vista driver cannot read users back, so panelctl cannot find the user named "Anna" \(the panel cannot list its users\)/,
    );
    expect(conflicts[0].reason).toMatch(/give the slot instead of the name; `panelctl audit show --panel clinic` lists what panelctl itself changed on it/);
    expect(conflicts[1].reason).toMatch(/cannot pick a free slot or tell whether the user is already there \(the panel cannot list its users\): give the slot/);
  });

  it('applies every step; the simulators hold the codes, and each result names its proof', async () => {
    const vistaWrites = vista.stats.writes;
    const applied = await panelctl(['bulk', 'apply', planFile, '--codes', codesFile, '-o', 'json']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const steps = JSON.parse(applied.stdout).steps;
    expect(steps.map((s: any) => [s.panel, s.action, s.slot, s.status, s.proof, s.verified, s.blind])).toEqual(
      [
        ['shop', 'set-code', 2, 'done', 'code-check', true, false],
        ['shop', 'remove', 4, 'done', 'read-back', true, false],
        ['clinic', 'set-code', 5, 'done', 'panel-ack', false, true],
        ['clinic', 'add', 7, 'done', 'panel-ack', false, true],
        ['clinic', 'remove', 4, 'done', 'panel-ack', false, true],
        ['hq', 'add', 40, 'done', 'code-check', true, false],
      ].sort(byPanelOf(steps)),
    );

    expect(integra.state.users[2].code).toBe(CODES.integra);
    expect(integra.state.users[4]).toBeUndefined();
    expect(map.model.state.users['040']).toMatchObject({ firstName: 'Jan', lastName: 'Jansen', passcode: CODES.map });
    expect(vista.state.codes['05']).toBe(CODES.vistaSet);
    expect(vista.state.codes['07']).toBe(CODES.vistaAdd);
    expect(vista.state.codes['04']).toBeUndefined();
    expect(vista.stats.writes - vistaWrites).toBe(3);
    // The conflicted rows never reached the panel.
    expect(Object.values(vista.state.codes)).not.toContain(CODES.vistaByName);
    expect(Object.values(vista.state.codes)).not.toContain(CODES.vistaNext);
  }, 90_000);

  it('the audit names the proof per driver: code-check, read-back, panel-ack', async () => {
    const shown = await panelctl(['audit', 'show', '-o', 'json']);
    expect(shown.code, shown.stderr).toBe(0);
    const entries = JSON.parse(shown.stdout).entries.filter((e: any) => e.details?.bulkPlan);
    const proofs = entries.map((e: any) => [e.panel, e.driver, e.action, e.slot, e.outcome, e.proof]);
    expect(proofs).toEqual(
      expect.arrayContaining([
        ['shop', 'integra', 'users.set-code', 2, 'ok', 'code-check'],
        ['shop', 'integra', 'users.remove', 4, 'ok', 'read-back'],
        ['hq', 'map5000', 'users.add', 40, 'ok', 'code-check'],
        ['clinic', 'vista', 'users.set-code', 5, 'ok', 'panel-ack'],
        ['clinic', 'vista', 'users.add', 7, 'ok', 'panel-ack'],
        ['clinic', 'vista', 'users.remove', 4, 'ok', 'panel-ack'],
      ]),
    );
    expect(entries).toHaveLength(6);
  });

  it('says in words which steps are blind and which writes were only acknowledged by the panel', async () => {
    const changes = await file('changes-text.csv', 'panel,action,slot,code\nclinic,set-code,8,codes:new', 0o644);
    const codes = await file('codes-text.csv', 'new\n9260');
    CODES_USED.push('9260');
    const plan = path.join(sandbox.dir, 'plan-text.json');
    const planned = await panelctl(['bulk', 'plan', changes, '--out', plan, '--codes', codes]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stderr).toMatch(/clinic: 1 step\(s\) planned blind: the panel cannot list its users, so they are written without checking the slot first/);
    const applied = await panelctl(['bulk', 'apply', plan, '--codes', codes]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/1 step\(s\) acknowledged by the panel, not read back .*\n {2}- clinic slot 8 \(set-code\)/);
    expect(vista.state.codes['08']).toBe('9260');
  }, 60_000);
});

describe('VISTA user numbers panelctl never writes', () => {
  it('user 01 (installer) and 02 (master) are plan conflicts and exit 2 for a single command, before the panel is contacted', async () => {
    const changes = await file('changes-special.csv', 'panel,action,slot,code\nclinic,set-code,1,codes:new\nclinic,set-code,2,codes:new', 0o644);
    const codes = await file('codes-special.csv', 'new,\n5927,\n6038,\n,');
    CODES_USED.push('5927', '6038');
    const connections = vista.stats.connections;
    const planned = await panelctl(['bulk', 'plan', changes, '--out', path.join(sandbox.dir, 'plan-special.json'), '--codes', codes, '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const [clinic] = JSON.parse(planned.stdout).panels;
    expect(clinic.steps).toEqual([]);
    expect(clinic.conflicts.map((c: any) => [c.row, c.errorCode, c.reason])).toEqual([
      [1, 'E_NO_SUCH_SLOT', 'slot: user 01 is the installer code: panelctl never changes it'],
      [2, 'E_NO_SUCH_SLOT', 'slot: user 02 is the master code, which panelctl types for every change; it is changed only when asked explicitly'],
    ]);
    const single = await sandbox.run(['users', 'set-code', '--panel', 'clinic', '--slot', '1', '--code-stdin'], { env, input: '5927\n' });
    outputs.push(single);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/user 01 is the installer code: panelctl never changes it/);
    const master = await panelctl(['users', 'remove', '--panel', 'clinic', '--slot', '2', '--yes']);
    expect(master.code).toBe(2);
    expect(master.stderr).toMatch(/user 02 is the master code: it can be changed, never deleted/);
    expect(vista.stats.connections).toBe(connections);
  });
});

describe('bulk apply --resume of a VISTA step cut off mid-write', () => {
  it('writes nothing twice and claims nothing: each step needs a person (E_UNCERTAIN, exit 7), with errorCode in JSON', async () => {
    const changes = await file('changes-cut.csv', 'panel,action,slot,code\nclinic,set-code,9,codes:new\nclinic,add,10,codes:new\nclinic,remove,3,', 0o644);
    const codes = await file('codes-cut.csv', 'new,\n3705,\n4816,\n,');
    CODES_USED.push('3705', '4816');
    const planFile = path.join(sandbox.dir, 'plan-cut.json');
    const planned = await panelctl(['bulk', 'plan', changes, '--out', planFile, '--codes', codes]);
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(await fs.readFile(planFile, 'utf8'));
    // What kill -9 after "journalled as started, keys sent, beep not yet heard" leaves behind.
    const journalDir = path.join(sandbox.stateDir, 'bulk', plan.id);
    await fs.mkdir(journalDir, { recursive: true, mode: 0o700 });
    const started = plan.panels[0].steps.map((step: any) =>
      JSON.stringify({ time: new Date().toISOString(), step: step.id, panel: 'clinic', event: 'started', slot: step.slot, action: step.action, attempt: 1 }),
    );
    await fs.writeFile(path.join(journalDir, 'journal.jsonl'), `${started.join('\n')}\n`, { mode: 0o600 });
    const writes = vista.stats.writes;
    const keys = vista.stats.keys;

    const resumed = await panelctl(['bulk', 'apply', planFile, '--resume', '--codes', codes]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(7);
    expect(resumed.stdout).toMatch(/3 step\(s\) need a person/);
    expect(resumed.stdout).toMatch(
      /clinic slot 9 \(set-code\): check by hand: have the user of slot 9 on clinic try the code from your codes file\. .*panelctl users set-code --panel clinic --slot 9/,
    );
    expect(resumed.stdout).toMatch(/clinic slot 10 \(add\): check by hand: .*panelctl users add --panel clinic --slot 10/);
    expect(resumed.stdout).toMatch(
      /clinic slot 3 \(remove\): check by hand: the code of slot 3 on clinic must no longer work at a keypad\. If it still works, remove it: panelctl users remove --panel clinic --slot 3/,
    );

    const json = await panelctl(['bulk', 'apply', planFile, '--resume', '--codes', codes, '-o', 'json']);
    expect(json.code, json.stderr).toBe(7);
    const steps = JSON.parse(json.stdout).steps;
    expect(steps.map((s: any) => [s.slot, s.status, s.errorCode, s.code, s.proof])).toEqual([
      [9, 'failed', 'E_UNCERTAIN', 'E_UNCERTAIN', null],
      [10, 'failed', 'E_UNCERTAIN', 'E_UNCERTAIN', null],
      [3, 'failed', 'E_UNCERTAIN', 'E_UNCERTAIN', null],
    ]);
    expect(steps[0].reason).toBe(
      'could not tell whether the new code of slot 9 landed before the interruption (vista panels cannot read users back); it is not written twice',
    );
    expect(steps.every((s: any) => s.instruction)).toBe(true);
    const status = await panelctl(['bulk', 'status', planFile, '-o', 'json']);
    expect(JSON.parse(status.stdout).steps.map((s: any) => [s.slot, s.state, s.errorCode])).toEqual([
      [9, 'failed', 'E_UNCERTAIN'],
      [10, 'failed', 'E_UNCERTAIN'],
      [3, 'failed', 'E_UNCERTAIN'],
    ]);
    // Not a key typed: the master code was not even entered.
    expect(vista.stats.writes).toBe(writes);
    expect(vista.stats.keys).toBe(keys);
    expect(vista.state.codes['09']).toBeUndefined();
    expect(vista.state.codes['03']).toBeDefined();
  }, 90_000);
});

/** Panels run in parallel: compare in the order the output has them. */
function byPanelOf(steps: Array<{ panel: string; slot: number; action: string }>) {
  const order = steps.map((s) => `${s.panel}/${s.action}/${s.slot}`);
  return (a: unknown[], b: unknown[]) => order.indexOf(`${a[0]}/${a[1]}/${a[2]}`) - order.indexOf(`${b[0]}/${b[1]}/${b[2]}`);
}
