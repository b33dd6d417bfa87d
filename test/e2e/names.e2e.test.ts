import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator } from '../../drivers/integra/simulator.js';
import { servedSimulators } from '../support/served.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { TtySession } from '../support/tty.js';

/**
 * User names are checked with the driver's rules before anything is sent (issue 14 item 14,
 * issue 19): INTEGRA keeps 16 characters of Windows-1250. `users add` refuses at once naming
 * the character; `bulk plan` makes such a row a conflict, so apply never sends it (and never
 * marks its generated code "unconfirmed"). `*` without --limit needs --all in a script.
 */

let sandbox: Sandbox;
let sim: Awaited<ReturnType<typeof createSimulator>> & { stats?: { writes: number } };
let port: number;
const simulators = servedSimulators();

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = await createSimulator({ users: 3 });
  port = await simulators.serve(sim);
  await sandbox.writeInventory(`panels:\n  shop-1:\n    driver: integra\n    link: tcp://127.0.0.1:${port}\n    secret: env:SHOP_CODE\n`);
});

afterAll(async () => {
  await sandbox.cleanup();
});

const credential = async () => ({ SHOP_CODE: sim.demoSecrets().code });

describe('user names against the driver rules', () => {
  const addNamed = (name: string) =>
    sandbox.run(['users', 'add', '--panel', 'demo', '--next', '--name', name, '--generate', '--codes-out', path.join(sandbox.dir, 'codes.csv')]);

  it('users add names the character Windows-1250 lacks (Ø is not in it), and the length limit, exit 2', async () => {
    const bad = await addNamed('Bjørn Ødegård');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--name: "ø" \(U\+00F8\), "Ø" \(U\+00D8\), "å" \(U\+00E5\) are not in Windows-1250/);
    const long = await addNamed('Seventeen chars!!');
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/is 17 characters; integra panels keep at most 16/);
    const fine = await addNamed('Łukasz Żółć');
    expect(fine.code, fine.stderr).toBe(0);
  });

  it('bulk plan makes a name the panel cannot store a conflict, not a step', async () => {
    const changes = path.join(sandbox.dir, 'names.csv');
    await fs.writeFile(changes, 'panel,action,slot,name,code\nshop-1,add,20,Bjørn,generate\nshop-1,add,21,Ola Nordmann,generate\n');
    const out = path.join(sandbox.dir, 'plan.json');
    const planned = await sandbox.run(['bulk', 'plan', changes, '--out', out, '-o', 'json'], { env: await credential() });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = JSON.parse(await fs.readFile(out, 'utf8'));
    expect(plan.panels[0].steps.map((s: { slot: number }) => s.slot)).toEqual([21]);
    expect(plan.panels[0].conflicts).toEqual([
      expect.objectContaining({ row: 1, code: 'E_NAME', reason: expect.stringMatching(/"ø" \(U\+00F8\) is not in Windows-1250/) }),
    ]);
  });

  it('bulk plan with * and no --limit: exit 2 in a script, planned with --all', async () => {
    const changes = path.join(sandbox.dir, 'every.csv');
    await fs.writeFile(changes, 'panel,action,slot,code\n*,remove,3,\n');
    const out = path.join(sandbox.dir, 'every.json');
    const refused = await sandbox.run(['bulk', 'plan', changes, '--out', out], { env: await credential() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/row 1 selects every panel in the inventory \(\*, 1 panels\) with no --limit/);
    await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
    const allowed = await sandbox.run(['bulk', 'plan', changes, '--out', out, '--all'], { env: await credential() });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/row 1: \* selects every panel in the inventory \(1\), no --limit/);
  });

  it('on a terminal, * without --limit is asked about; no means exit 2 and no plan', async () => {
    const changes = path.join(sandbox.dir, 'every-tty.csv');
    await fs.writeFile(changes, 'panel,action,slot,code\n*,remove,3,\n');
    const out = path.join(sandbox.dir, 'every-tty.json');
    const t = new TtySession(['bulk', 'plan', changes, '--out', out], { ...sandbox.env, ...(await credential()) });
    try {
      await t.expect(/row 1 selects every panel in the inventory \(\*, 1 panels\) with no --limit\. Plan for all of them\?/);
      t.line('n');
      expect((await t.exit()).exitCode).toBe(2);
      await expect(fs.stat(out)).rejects.toThrow(/ENOENT/);
    } finally {
      t.kill();
    }
  });

  it('shell --panel with a typo says "did you mean"', async () => {
    const t = new TtySession(['shell', '--panel', 'shop1'], sandbox.env);
    try {
      await t.expect(/no panel named "shop1" in the inventory; did you mean shop-1\?/);
      expect((await t.exit()).exitCode).toBe(2);
    } finally {
      t.kill();
    }
  });
});
