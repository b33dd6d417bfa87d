import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { registryWith, runInProcess } from '../support/in-process.js';
import { WriteOnlyPanel, writeOnlyDriver } from '../support/write-only-driver.js';

/**
 * Issue 15: a panel that can write but not read, run through the whole CLI in process with a
 * registry holding a write-only test driver. Before contract v2, `users add --next` on such a
 * panel sent the write, then exited 6 "unsupported" and audited `failed` for a change that was
 * made (test/operations/write-only-step.test.ts pins that at the step level).
 */

let sandbox: Sandbox;
const panel = new WriteOnlyPanel();
const fixedPanel = new WriteOnlyPanel();
const drivers = registryWith({
  writeonly: { driver: writeOnlyDriver(panel, { nextSlot: true }) },
  'writeonly-fixed': { driver: writeOnlyDriver(fixedPanel, { nextSlot: false, name: 'writeonly-fixed' }) },
});
const cli = (args: string[], input?: string) => runInProcess(args, { drivers, env: sandbox.env, input });

async function lastAudit(): Promise<Record<string, unknown>> {
  const shown = await cli(['audit', 'show', '-o', 'json']);
  expect(shown.code, shown.stderr).toBe(0);
  return JSON.parse(shown.stdout).entries.at(-1);
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  await sandbox.writeInventory(
    'panels:\n' + '  gate:\n    driver: writeonly\n    link: tcp://127.0.0.1:9\n' + '  door:\n    driver: writeonly-fixed\n    link: tcp://127.0.0.1:9\n',
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

describe('a write-only panel through the CLI (in process)', () => {
  it('users add --next sends the write once, exits 0 and records proof panel-ack, saying it was not read back', async () => {
    const result = await cli(['users', 'add', '--panel', 'gate', '--next', '--code-stdin', '-o', 'json'], '482913\n');
    expect(result.code, result.stderr).toBe(0);
    expect(panel.writes).toEqual(['create 1']);
    expect(panel.codes.get(1)).toBe('482913');
    expect(JSON.parse(result.stdout)).toMatchObject({ action: 'users.add', verified: false, proof: 'panel-ack', user: { slot: 1 } });
    expect(await lastAudit()).toMatchObject({ panel: 'gate', action: 'users.add', slot: 1, outcome: 'ok', proof: 'panel-ack' });
  });

  it('says so in words on a terminal table too: acknowledged, not read back', async () => {
    const result = await cli(['users', 'add', '--panel', 'gate', '--slot', '5', '--code-stdin'], '591734\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/added in slot 5 on gate \(acknowledged by the panel, not read back/);
    expect(result.stdout).not.toMatch(/verified/);
  });

  it('set-code and remove by slot work, each acknowledged and audited as panel-ack', async () => {
    const change = await cli(['users', 'set-code', '--panel', 'gate', '--slot', '5', '--code-stdin', '-o', 'json'], '604821\n');
    expect(change.code, change.stderr).toBe(0);
    expect(JSON.parse(change.stdout)).toMatchObject({ verified: false, proof: 'panel-ack' });
    expect(await lastAudit()).toMatchObject({ action: 'users.set-code', outcome: 'ok', proof: 'panel-ack' });
    const removed = await cli(['users', 'remove', '--panel', 'gate', '--slot', '5', '--yes', '-o', 'json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ verified: false, proof: 'panel-ack' });
    expect(panel.codes.has(5)).toBe(false);
    expect(await lastAudit()).toMatchObject({ action: 'users.remove', outcome: 'ok', proof: 'panel-ack' });
  });

  it('users list is refused with exit 6 naming what is missing and what still works', async () => {
    const before = panel.writes.length;
    const result = await cli(['users', 'list', '--panel', 'gate']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/the writeonly driver cannot read users back, so panelctl cannot list its users/);
    expect(result.stderr).toMatch(/users add \(--slot or --next\), users set-code --slot and users remove --slot still work/);
    expect(panel.writes.length).toBe(before);
  });

  it('a JSON error names its identity as errorCode, with code kept as its deprecated alias (issue 15 item 9)', async () => {
    const result = await cli(['users', 'list', '--panel', 'gate', '-o', 'json']);
    expect(result.code).toBe(6);
    const { error } = JSON.parse(result.stderr);
    expect(error).toMatchObject({ errorCode: 'E_UNSUPPORTED', code: 'E_UNSUPPORTED', exitCode: 6 });
  });

  it('users add --next without a reader or a driver that picks a slot is refused before anything is sent', async () => {
    const result = await cli(['users', 'add', '--panel', 'door', '--next', '--code-stdin'], '731946\n');
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/cannot pick the next free slot/);
    expect(fixedPanel.writes).toEqual([]);
  });

  it('bulk plan of rows that all need the user list is exit 6 with the reason, and writes no plan', async () => {
    const changes = path.join(sandbox.dir, 'changes.csv');
    await fs.writeFile(changes, 'panel,action,slot,user,code\ngate,set-code,,Anna,generate\ngate,add,,,generate\n');
    const out = path.join(sandbox.dir, 'plan.json');
    const result = await cli(['bulk', 'plan', changes, '--out', out]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(
      /nothing in this change list can be planned: the writeonly driver cannot read users back, so panelctl cannot find the user named "Anna" \(the panel cannot list its users\): give the slot instead/,
    );
    await expect(fs.stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('bulk plan and apply of a row with a slot: a blind step, written once and audited as panel-ack', async () => {
    const changes = path.join(sandbox.dir, 'changes-slot.csv');
    await fs.writeFile(changes, 'panel,action,slot,code\ngate,set-code,1,codes:new\n');
    const codes = path.join(sandbox.dir, 'codes-slot.csv');
    await fs.writeFile(codes, 'new\n735184\n', { mode: 0o600 });
    const out = path.join(sandbox.dir, 'plan-slot.json');
    const planned = await cli(['bulk', 'plan', changes, '--out', out, '--codes', codes, '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    expect(JSON.parse(planned.stdout).panels[0].steps).toMatchObject([{ action: 'set-code', slot: 1, blind: true }]);
    const before = panel.writes.length;
    const applied = await cli(['bulk', 'apply', out, '--codes', codes, '-o', 'json']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).steps).toMatchObject([{ slot: 1, status: 'done', proof: 'panel-ack', verified: false, blind: true }]);
    expect(panel.writes.slice(before)).toEqual(['change 1']);
    expect(panel.codes.get(1)).toBe('735184');
    expect(await lastAudit()).toMatchObject({ panel: 'gate', action: 'users.set-code', slot: 1, outcome: 'ok', proof: 'panel-ack' });
  });

  it('bulk plan of a row with a slot and a type the driver cannot set: a conflict naming the column, not a blind step without it', async () => {
    const changes = path.join(sandbox.dir, 'changes-type.csv');
    await fs.writeFile(changes, 'panel,action,slot,type,code\ngate,add,9,master,generate\ngate,remove,10,,\n');
    const planned = await cli(['bulk', 'plan', changes, '--out', path.join(sandbox.dir, 'plan-type.json'), '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const [gate] = JSON.parse(planned.stdout).panels;
    expect(gate.steps).toMatchObject([{ action: 'remove', slot: 10, blind: true }]);
    expect(gate.conflicts).toEqual([
      expect.objectContaining({ row: 1, slot: 9, code: 'E_UNSUPPORTED', reason: 'type: the write-only test panel has no user types' }),
    ]);
  });

  it("bulk apply of a row whose code comes from stdin reads this run's standard input, not the process's", async () => {
    // It read process.stdin: in process (a test worker's stdin is a pipe nobody ends) it hung.
    const changes = path.join(sandbox.dir, 'changes-stdin.csv');
    await fs.writeFile(changes, 'panel,action,slot,name,code\ngate,add,7,Stdin,stdin\n');
    const out = path.join(sandbox.dir, 'plan-stdin.json');
    const planned = await cli(['bulk', 'plan', changes, '--out', out, '-o', 'json']);
    expect(planned.code, planned.stderr).toBe(0);
    const applied = await cli(['bulk', 'apply', out, '-o', 'json'], '602718\n');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).steps).toMatchObject([{ slot: 7, status: 'done' }]);
    expect(panel.codes.get(7)).toBe('602718');
  });

  it('INTEGRA through the same in-process CLI records a stronger proof: code-check', async () => {
    const result = await cli(['users', 'add', '--panel', 'demo', '--slot', '40', '--name', 'Proof', '--code-stdin', '-o', 'json'], '5829163\n');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ verified: true, proof: 'code-check' });
    expect(await lastAudit()).toMatchObject({ panel: 'demo', driver: 'integra', action: 'users.add', outcome: 'ok', proof: 'code-check' });
  });
});
