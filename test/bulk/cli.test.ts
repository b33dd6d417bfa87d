import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writePlan, type BulkPlan } from '../../src/bulk/plan.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { ensureBuilt } from './support/build.js';

/**
 * The real binary: input errors, the plan file and its summary, apply's refusals, exit 7,
 * NDJSON events and `bulk status`. The panels here are not reachable (a closed port), so
 * these hold whichever drivers are installed; the fleet tests cover working panels.
 */

let sandbox: Sandbox;
let closedPort: number;

beforeAll(async () => {
  ensureBuilt();
  sandbox = await makeSandbox();
  // Port 1 (tcpmux) is privileged and unused: connections are refused. A port that was merely free a
  // moment ago could be taken by another test file's simulator running in parallel.
  closedPort = 1;
  await sandbox.writeInventory(`panels:
  shop-1: { driver: integra, link: "tcp://127.0.0.1:${closedPort}", secret: env:SHOP_CODE, tags: { site: oslo } }
  shop-2: { driver: integra, link: "tcp://127.0.0.1:${closedPort}", secret: env:SHOP_CODE, tags: { site: bergen } }
`);
}, 60_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

const file = async (name: string, text: string, mode = 0o644) => {
  const p = path.join(sandbox.dir, name);
  await fs.writeFile(p, text, { mode });
  await fs.chmod(p, mode);
  return p;
};
const run = (args: string[], input?: string) => sandbox.run(args, { input, env: { SHOP_CODE: '1111' } });

describe('panelctl bulk plan', () => {
  it('refuses a change list with bad rows, naming every one, and writes no plan', async () => {
    const changes = await file('bad.csv', 'panel,action,slot,name,code\nshop-9,add,3,X,generate\nshop-1,add,,,generate\nshop-1,set-code,2,,483920\n');
    const out = path.join(sandbox.dir, 'never.json');
    const result = await run(['bulk', 'plan', changes, '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/row 1, panel: no panel named "shop-9"/);
    expect(result.stderr).toMatch(/row 2, name:/);
    expect(result.stderr).toMatch(/row 3, code:/);
    expect(result.stderr + result.stdout).not.toContain('483920');
    await expect(fs.stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes a plan with the unreachable panels as conflicts, and -o json stays the output format', async () => {
    const changes = await file('ok.csv', 'panel,action,user,code\nsite=oslo,remove,Leaver,\n*,set-code,Bob,generate\n');
    const out = path.join(sandbox.dir, 'plan.json');
    const result = await run(['bulk', 'plan', changes, '--out', out, '--limit', 'site=oslo', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const plan = JSON.parse(await fs.readFile(out, 'utf8')) as BulkPlan;
    expect(summary).toMatchObject({ id: plan.id, totals: { panels: 1, steps: 0, conflicts: 2 } });
    expect(plan.panels.map((p) => p.panel)).toEqual(['shop-1']);
    expect(plan.panels[0].conflicts.map((c) => c.code)).toEqual(expect.arrayContaining([expect.stringMatching(/^E_(UNREACHABLE|UNSUPPORTED)$/)]));

    const table = await run(['bulk', 'plan', changes, '--out', out, '--all']);
    expect(table.stdout).toMatch(/PANEL\s+DRIVER\s+STEPS\s+NO-OPS\s+CONFLICTS/);
    expect(table.stdout).toMatch(/written to .*plan\.json: 0 step\(s\) on 2 panel\(s\)/);
  });
});

describe('panelctl bulk apply and status', () => {
  let planFile: string;

  beforeAll(async () => {
    // A plan as `bulk plan` would write it for a panel that was reachable then.
    const unsigned = {
      format: 'panelctl-bulk-plan/1' as const,
      id: '', // writePlan computes it
      createdAt: '2026-01-01T00:00:00.000Z',
      source: { file: 'changes.csv', rows: 1 },
      panels: [
        {
          panel: 'shop-1',
          facts: { driver: 'integra', link: `tcp://127.0.0.1:${closedPort}`, options: {} },
          steps: [{ id: 'shop-1/1', row: 1, action: 'set-code' as const, slot: 2, name: 'Bob', code: { source: 'generate' as const } }],
          noops: [],
          conflicts: [],
        },
      ],
    };
    planFile = path.join(sandbox.dir, 'apply-plan.json');
    await writePlan(planFile, unsigned as BulkPlan, sandbox.stateDir);
  });

  it('refuses an edited plan', async () => {
    const edited = JSON.parse(await fs.readFile(planFile, 'utf8'));
    edited.panels[0].steps[0].slot = 3;
    const result = await run(['bulk', 'apply', await file('edited.json', JSON.stringify(edited))]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/changed after it was made/);
  });

  it('asks where generated codes go before touching anything', async () => {
    const result = await run(['bulk', 'apply', planFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--codes-out FILE .* or --reveal/);
  });

  it('exits 7 when steps fail, streams NDJSON events, and status reads the journal', async () => {
    const codesOut = path.join(sandbox.dir, 'codes-out.csv');
    const result = await run(['bulk', 'apply', planFile, '--codes-out', codesOut, '--retries', '0', '-o', 'ndjson']);
    expect(result.code, result.stderr).toBe(7);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.event === 'step')).toMatchObject({ panel: 'shop-1', slot: 2, status: 'failed', code: expect.stringMatching(/^E_/) });
    expect(events.at(-1)).toMatchObject({ event: 'summary', done: 0, failed: 1 });
    expect((await fs.stat(codesOut)).mode & 0o777).toBe(0o600);

    const again = await run(['bulk', 'apply', planFile, '--codes-out', path.join(sandbox.dir, 'other.csv')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/applied before .* --resume/s);

    const status = await run(['bulk', 'status', planFile, '-o', 'json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, counts: { done: 0, failed: 1, 'in flight': 0, pending: 0 } });
  });
});
