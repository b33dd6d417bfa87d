import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { servedSimulators } from '../support/served.js';
import { planIdOf, type BulkPlan } from '../../src/bulk/plan.js';
import { BIN, makeSandbox, type Sandbox } from '../support/cli.js';

/**
 * Plans are bound to the state dir that made them (an HMAC with its state key, issue 14 item 9)
 * and written 0600; bulk's codes file follows the one rule for files that hold codes (item 1).
 * Every refusal here is exit 2 before any panel is contacted: the simulators count writes.
 */

const integra = await import('../../drivers/integra/simulator.js');
type Sim = Awaited<ReturnType<typeof integra.createSimulator>> & { state: any; stats: { writes: number } };

let sandbox: Sandbox;
let sim: Sim;
let port: number;
const simulators = servedSimulators();
let planFile: string;
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => sandbox.run(args, { env: { SITE_CODE: '1111', ...env }, timeoutMs: 60_000 });
const writes = () => sim.stats.writes;

beforeAll(async () => {
  sandbox = await makeSandbox();
  sim = (await integra.createSimulator({ users: 5 })) as Sim;
  port = await simulators.serve(sim);
  await sandbox.writeInventory(`panels:\n  site-0: { driver: integra, link: "tcp://127.0.0.1:${port}", secret: env:SITE_CODE }\n`);
  const changes = path.join(sandbox.dir, 'changes.csv');
  await fs.writeFile(changes, 'panel,action,slot,code\nsite-0,set-code,2,generate\n');
  planFile = path.join(sandbox.dir, 'plan.json');
  // umask 000: before, the plan came out 0666 (issue 14 item 9).
  // (spawned asynchronously: the simulator answers from this process's event loop)
  const child = spawn('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, BIN, 'bulk', 'plan', changes, '--out', planFile], {
    env: { ...sandbox.env, SITE_CODE: '1111' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise((resolve) => child.on('close', resolve));
  expect(status, stderr).toBe(0);
  expect(JSON.parse(await fs.readFile(planFile, 'utf8')).panels[0].conflicts).toEqual([]);
}, 60_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function writeVariant(name: string, change: (plan: BulkPlan) => void): Promise<string> {
  const plan = JSON.parse(await fs.readFile(planFile, 'utf8')) as BulkPlan;
  change(plan);
  const file = path.join(sandbox.dir, name);
  await fs.writeFile(file, JSON.stringify(plan), { mode: 0o600 });
  return file;
}

async function refused(args: string[], pattern: RegExp) {
  const before = writes();
  const result = await run(args);
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toMatch(pattern);
  expect(writes()).toBe(before);
}

describe('bulk plans', () => {
  it('are written 0600 and carry a signature', async () => {
    expect((await fs.stat(planFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await fs.readFile(planFile, 'utf8')).signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuse an edited plan whose id was recomputed, naming the reason, before any panel is contacted', async () => {
    const edited = await writeVariant('injected.json', (plan) => {
      plan.panels[0].steps.push({ id: 'site-0/2', row: 2, action: 'remove', slot: 3, name: 'x' });
      plan.id = planIdOf(plan);
    });
    await refused(['bulk', 'apply', edited, '--codes-out', path.join(sandbox.dir, 'c1.csv')], /signature does not verify.*changed after it was made/);
  });

  it('refuse a plan without a signature, and one made with another state dir', async () => {
    const unsigned = await writeVariant('unsigned.json', (plan) => delete plan.signature);
    await refused(['bulk', 'apply', unsigned, '--codes-out', path.join(sandbox.dir, 'c2.csv')], /is not signed/);
    const otherState = path.join(sandbox.dir, 'other-state');
    const before = writes();
    const elsewhere = await run(['bulk', 'apply', planFile, '--codes-out', path.join(sandbox.dir, 'c3.csv')], { PANELCTL_STATE_DIR: otherState });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/no state key at .*other-state.*bound to the state dir that made them/);
    expect(writes()).toBe(before);
  });
});

describe('bulk apply --codes-out', () => {
  it('never writes codes through a planted symbolic link', async () => {
    const theirs = path.join(sandbox.dir, 'theirs.csv');
    await fs.writeFile(theirs, '', { mode: 0o600 });
    const planted = path.join(sandbox.dir, 'codes-out.csv');
    await fs.symlink(theirs, planted);
    await refused(['bulk', 'apply', planFile, '--codes-out', planted], /symbolic link/);
    expect(await fs.readFile(theirs, 'utf8')).toBe('');
  });

  it('refuses a directory others can write (a shared, non-sticky /out)', async () => {
    const out = path.join(sandbox.dir, 'out');
    await fs.mkdir(out);
    await fs.chmod(out, 0o777);
    await refused(['bulk', 'apply', planFile, '--codes-out', path.join(out, 'codes.csv')], /writable by other users \(mode 0777\)/);
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('applies a signed plan into a codes file of its own', async () => {
    const codesOut = path.join(sandbox.dir, 'applied.csv');
    const result = await run(['bulk', 'apply', planFile, '--codes-out', codesOut]);
    expect(result.code, result.stderr).toBe(0);
    const text = await fs.readFile(codesOut, 'utf8');
    const line = text.trim().split('\n')[1];
    expect(line, `${text}\n${result.stdout}\n${result.stderr}`).toBeDefined();
    expect(line).toMatch(/^"site-0","2","[^"]*","\d+","applied"$/);
    expect(line).toContain(`"${(sim.state.users.get?.(2) ?? sim.state.users[2]).code}"`);
  });
});

describe('bulk plan --codes', () => {
  it('prints an apply command that keeps --codes', async () => {
    const codes = path.join(sandbox.dir, 'my codes.csv');
    await fs.writeFile(codes, 'new\n583920\n', { mode: 0o600 });
    const changes = path.join(sandbox.dir, 'changes-codes.csv');
    await fs.writeFile(changes, 'panel,action,slot,code\nsite-0,set-code,3,codes:new\n');
    const out = path.join(sandbox.dir, 'plan-codes.json');
    const planned = await run(['bulk', 'plan', changes, '--out', out, '--codes', codes]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stderr).toContain(`apply it with: panelctl bulk apply ${out} --codes '${codes}'`);
  });
});
