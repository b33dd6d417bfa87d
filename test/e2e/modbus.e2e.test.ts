import path from 'node:path';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type ModbusSimulator } from '../../drivers/modbus/simulator.js';
import { servedSimulators } from '../support/served.js';
import { makeSandbox, type CliResult, type Sandbox } from '../support/cli.js';

/**
 * The real panelctl binary against the Modbus simulator on a real TCP port (Modbus TCP, MBAP),
 * with the shipped demo-modbus profile. Every code used is collected and, at the end, searched
 * for in everything the tool printed or wrote.
 */

let sim: ModbusSimulator;
let port: number;
const simulators = servedSimulators();
let sandbox: Sandbox;
const outputs: CliResult[] = [];
const codesUsed = new Set<string>();

async function panelctl(args: string[], input?: string): Promise<CliResult> {
  const result = await sandbox.run(args, { input });
  outputs.push(result);
  return result;
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = await createSimulator({ users: 5 });
  for (let slot = 1; slot <= 5; slot++) codesUsed.add(sim.user(slot)!.code!);
  port = await simulators.serve(sim);
  await sandbox.writeInventory(
    [
      'panels:',
      '  gate:',
      '    driver: modbus',
      `    link: tcp://127.0.0.1:${port}`,
      '    options: { profile: demo-modbus, unit: 1 }',
      '  wrong-unit:',
      '    driver: modbus',
      `    link: tcp://127.0.0.1:${port}`,
      '    options: { profile: demo-modbus, unit: 9 }',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

beforeEach(() => sim.setFaults({ latencyMs: 0, dropReplies: 0, exceptionCode: 0, exceptionCount: 0, exceptionOn: 'any', wrongUnitReplies: 0 }));

describe('panelctl against the Modbus simulator over TCP', () => {
  it('lists users with slot, name, type, partitions and whether a code is set, never the code', async () => {
    const json = await panelctl(['users', 'list', '--panel', 'gate', '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const { users } = JSON.parse(json.stdout);
    expect(users.map((u: { slot: number }) => u.slot)).toEqual([1, 2, 3, 4, 5]);
    expect(users[0]).toEqual({ slot: 1, kind: 'user', name: 'Anna', type: 'normal', partitions: [1], hasCode: true, editable: true });
    const table = await panelctl(['users', 'list', '--panel', 'gate']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/SLOT\s+KIND\s+NAME/);
    expect(table.stdout).toContain('Marta');
  });

  it('reaches an ad hoc --link with the profile given by --option, and says how when it is missing', async () => {
    const link = `tcp://127.0.0.1:${port}`;
    const bare = await panelctl(['users', 'list', '--link', link, '--driver', 'modbus']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/--option profile=NAME-OR-PATH/);
    const given = await panelctl([
      'users',
      'list',
      '--link',
      link,
      '--driver',
      'modbus',
      '--option',
      'profile=demo-modbus',
      '--option',
      'unit=1',
      '-o',
      'json',
    ]);
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(given.stdout).users.map((u: { slot: number }) => u.slot)).toEqual(expect.arrayContaining([1, 2, 3, 4, 5]));
    const malformed = await panelctl(['users', 'list', '--link', link, '--driver', 'modbus', '--option', 'profile']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--option: must be KEY=VALUE/);
  });

  it('shows the device: model and firmware from its registers, the profile slot range and code length', async () => {
    const result = await panelctl(['info', '--panel', 'gate', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      driver: 'modbus',
      model: 'PCX-1000',
      firmware: '1.4',
      slotRanges: [{ from: 1, to: 1000, kind: 'user' }],
      codeRules: { minLength: 4, maxLength: 6 },
      capabilities: expect.arrayContaining(['users.add', 'test-mode']),
      details: { profile: 'demo-modbus' },
    });
  });

  it('adds a user from stdin, verified, and the device holds it', async () => {
    codesUsed.add('583016');
    const result = await panelctl(
      ['users', 'add', '--panel', 'gate', '--slot', '20', '--name', 'Cleaner', '--partitions', '1,2', '--code-stdin', '-o', 'json'],
      '583016\n',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ verified: true, user: { slot: 20, name: 'Cleaner', partitions: [1, 2], hasCode: true } });
    expect(sim.user(20)).toMatchObject({ name: 'Cleaner', code: '583016', partitions: [1, 2], enabled: true });
  });

  it('adds with --next --generate --reveal: a 6-digit code the device now holds', async () => {
    const result = await panelctl(['users', 'add', '--panel', 'gate', '--next', '--name', 'Temp', '--generate', '--reveal', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.user.slot).toBe(6);
    expect(doc.generatedCode).toMatch(/^\d{6}$/);
    expect(sim.user(6)!.code).toBe(doc.generatedCode);
  });

  it('changes a code and leaves name, type and partitions as they were', async () => {
    const before = sim.user(20)!;
    codesUsed.add('719350');
    const result = await panelctl(['users', 'set-code', '--panel', 'gate', '--slot', '20', '--code-stdin'], '719350\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/verified/);
    expect(sim.user(20)).toEqual({ ...before, code: '719350' });
  });

  it('enforces the profile code length before connecting (exit 2), sending no write', async () => {
    const writes = sim.stats.writes;
    codesUsed.add('83017264');
    const result = await panelctl(['users', 'set-code', '--panel', 'gate', '--slot', '20', '--code-stdin'], '83017264\n');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/new code: must be 4 to 6 digits long for this panel/);
    // A slot outside the profile's table is refused the same way.
    const outside = await panelctl(['users', 'set-code', '--panel', 'gate', '--slot', '1001', '--code-stdin'], '830172\n');
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/--slot: must be a slot this panel has: 1-1000 \(user\)/);
    expect(sim.stats.writes).toBe(writes);
  });

  it('refuses a code another user has: the device answers illegal value, panelctl says refused (exit 3)', async () => {
    const result = await panelctl(['users', 'set-code', '--panel', 'gate', '--slot', '20', '--code-stdin'], `${sim.user(1)!.code}\n`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the code may already belong to another user/);
    expect(sim.user(20)!.code).toBe('719350');
  });

  it('removes only with --yes without a terminal, then the slot reads back empty', async () => {
    const refused = await panelctl(['users', 'remove', '--panel', 'gate', '--slot', '20']);
    expect(refused.code).toBe(2);
    expect(sim.user(20)).toBeDefined();
    const removed = await panelctl(['users', 'remove', '--panel', 'gate', '--slot', '20', '--yes', '-o', 'json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ verified: true, user: { slot: 20, name: 'Cleaner' } });
    expect(sim.user(20)).toBeUndefined();
  });

  it('maps Modbus exceptions to exit codes with plain words', async () => {
    sim.setFaults({ exceptionCode: 2, exceptionCount: 1 });
    const address = await panelctl(['users', 'list', '--panel', 'gate', '-o', 'json']);
    expect(address.code).toBe(5);
    expect(JSON.parse(address.stderr).error).toMatchObject({ code: 'E_MODBUS_ILLEGAL_ADDRESS', exitCode: 5 });
    expect(address.stderr).toMatch(/the device has no registers 1000\.\.1122 while reading the user table \(Modbus exception 2, illegal data address\)/);

    sim.setFaults({ exceptionCode: 1, exceptionCount: 1 });
    const fn = await panelctl(['info', '--panel', 'gate']);
    expect(fn.code).toBe(5);
    expect(fn.stderr).toMatch(/does not support function 3 .*illegal function/);

    sim.setFaults({ exceptionCode: 6, exceptionCount: 1 });
    const busy = await panelctl(['users', 'list', '--panel', 'gate']);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toMatch(/the device is busy .*server device busy/);

    sim.setFaults({ exceptionCode: 3, exceptionCount: 1, exceptionOn: 'write' });
    codesUsed.add('462917');
    const value = await panelctl(['users', 'set-code', '--panel', 'gate', '--slot', '3', '--code-stdin'], '462917\n');
    expect(value.code).toBe(3);
    expect(value.stderr).toMatch(/refused the write to slot 3.*Modbus exception 3, illegal data value/);
  });

  it('a wrong unit id or a silent device is exit 4, with the unit id as the hint', async () => {
    const unit = await panelctl(['users', 'list', '--panel', 'wrong-unit']);
    expect(unit.code).toBe(4);
    expect(unit.stderr).toMatch(/gateway got no answer from Modbus unit 9/);
    expect(unit.stderr).toMatch(/hint: check the unit id \(options.unit, now 9/);

    sim.setFaults({ dropReplies: 1000 });
    const silent = await panelctl(['--timeout', '800ms', 'users', 'list', '--panel', 'gate']);
    expect(silent.code).toBe(4);
    expect(silent.stderr).toMatch(/no answer from Modbus unit 1 within 800 ms/);
    expect(silent.stderr).toMatch(/hint: check the unit id/);
  });

  it('a panel without options.profile is refused before connecting (exit 2)', async () => {
    const requests = sim.stats.requests;
    // A bad panel makes the whole inventory bad (every problem listed), so it has an inventory of its own.
    const inventory = path.join(sandbox.dir, 'no-profile.yaml');
    await fs.writeFile(inventory, `panels:\n  no-profile:\n    driver: modbus\n    link: tcp://127.0.0.1:${port}\n`);
    const result = await panelctl(['users', 'list', '--panel', 'no-profile', '--inventory', inventory]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/panel "no-profile", field "options.profile": is required/);
    expect(sim.stats.requests).toBe(requests);
  });

  it('--debug traces frames with the code registers masked', async () => {
    codesUsed.add('350814');
    const result = await panelctl(['--debug', 'users', 'add', '--panel', 'gate', '--slot', '21', '--name', 'Traced', '--code-stdin'], '350814\n');
    expect(result.code, result.stderr).toBe(0);
    const trace = result.stdout + result.stderr;
    expect(trace).toMatch(/01 10 05 28 00 0d 1a/); // function 16 to slot 21's record
    expect(trace).toContain('**');
    expect(trace).not.toMatch(/35 08 14|08 14 ff/);
  });

  it('probe finds Modbus on the port and names the device, writing nothing', async () => {
    const writes = sim.stats.writes;
    const result = await panelctl(['--timeout', '1s', 'probe', `tcp://127.0.0.1:${port}`, '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).answered).toMatchObject({ driver: 'modbus', model: 'PCX-1000 (profile demo-modbus, unit 1)', firmware: '1.4' });
    expect(sim.stats.writes).toBe(writes);
  });

  it('the built-in demo-modbus panel works with nothing else running', async () => {
    const result = await panelctl(['users', 'list', '--panel', 'demo-modbus', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).users).toHaveLength(12);
  });

  it('audits every write in an intact chain', async () => {
    const show = await panelctl(['audit', 'show', '-o', 'json']);
    const { entries } = JSON.parse(show.stdout);
    expect(entries.filter((e: { driver: string }) => e.driver === 'modbus').length).toBeGreaterThanOrEqual(6);
    expect(entries.some((e: { outcome: string; panel: string }) => e.panel === 'gate' && e.outcome === 'refused')).toBe(true);
    const verify = await panelctl(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('never lets a code reach stdout, stderr, the audit log or any state file', async () => {
    const everything = outputs.map((o) => o.stdout + o.stderr).join('\n') + (await sandbox.allWrittenText());
    const revealed = new Set(outputs.flatMap((o) => [...o.stdout.matchAll(/"generatedCode":\s*"(\d+)"/g)].map((m) => m[1])));
    for (const code of codesUsed) {
      if (revealed.has(code)) continue; // --reveal shows a generated code on purpose
      expect(everything.includes(code), `code ${code.slice(0, 2)}** leaked`).toBe(false);
    }
  });
});
