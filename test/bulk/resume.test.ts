import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readChanges } from '../../src/bulk/input.js';
import { CodeBook } from '../../src/bulk/codes.js';
import { buildPlan, writePlan, type BulkPlan } from '../../src/bulk/plan.js';
import { journalFile, planDir, readJournal } from '../../src/bulk/journal.js';
import { ensureBuilt } from './support/build.js';
import { fake, startFleet, type Fleet, type SeedUser } from './support/fleet.js';
import { readCodesCsv } from '../support/codes-csv.js';

/**
 * kill -9 of the applying process at random points, then --resume: every panel must end in
 * the planned state and no write may be repeated (each simulator logs its writes).
 */

const CHILD = fileURLToPath(new URL('./support/apply-child.mjs', import.meta.url));
const PANELS = 40;
const STEPS_PER_PANEL = 4;

const users = (i: number): SeedUser[] => [
  { slot: 1, name: 'Alice', code: `51${String(1000 + i)}` },
  { slot: 2, name: 'Bob', code: `62${String(1000 + i)}` },
  { slot: 3, name: 'Carol', code: `73${String(1000 + i)}` },
  { slot: 5, name: 'Leaver', code: `84${String(1000 + i)}` },
];
const CHANGES = `panel,action,slot,user,name,partitions,code
*,add,10,,New Person,,codes:new
*,set-code,2,,,,generate
*,remove,,Leaver,,,
*,set-code,3,,,,codes:carol
`;
const CODES = 'new,carol\n605918,\n,\n,\n,370264\n';

beforeAll(ensureBuilt, 60_000);

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the child; with killAfterLines, SIGKILLs it once the journal has that many lines. */
function runChild(args: Record<string, unknown>, env: NodeJS.ProcessEnv, journalFile: string, killAfterLines?: number): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const watch =
      killAfterLines === undefined
        ? undefined
        : setInterval(async () => {
            const text = await fs.readFile(journalFile, 'utf8').catch(() => '');
            if (text.split('\n').filter(Boolean).length >= killAfterLines) child.kill('SIGKILL');
          }, 2);
    const guard = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (watch) clearInterval(watch);
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

const SEEDS = [7, 19, 42, 1234];
let inDoubt = 0;

describe.each(SEEDS)('kill -9 during apply, then --resume (seed %i)', (seed) => {
  it('ends every panel in the planned state without repeating a write', async () => {
    fleet = await startFleet(PANELS, (i) => ({ users: users(i) }));
    for (const { panel } of fleet.panels.values()) panel.setFaults({ latencyMs: 2 });
    const changes = await fleet.file('changes.csv', CHANGES, 0o644);
    const codesFile = await fleet.file('codes.csv', CODES);
    const codes = await CodeBook.load(codesFile);
    const rows = await readChanges(changes, { drivers: fleet.ctx.drivers, targets: fleet.targets, codes });
    const plan: BulkPlan = await buildPlan(rows, fleet.targetMap, fleet.ctx, {
      concurrency: 16,
      codes,
      access: fake.access,
      source: { file: 'changes.csv', rows: rows.length },
    });
    expect(plan.panels.every((p) => p.steps.length === STEPS_PER_PANEL)).toBe(true);
    const planFile = path.join(fleet.dir, 'plan.json');
    await writePlan(planFile, plan, fleet.stateDir);

    const journal = journalFile(planDir(fleet.stateDir, plan.id));
    const args = {
      planFile,
      inventoryFile: fleet.inventoryFile,
      stateDir: fleet.stateDir,
      codesFile,
      codesOut: path.join(fleet.dir, 'codes-out.csv'),
      concurrency: 6,
    };
    const env = { PATH: process.env.PATH, BULK_TEST_CODE: process.env.BULK_TEST_CODE };
    const totalLines = PANELS * STEPS_PER_PANEL * 2;
    const killAt = 3 + Math.floor(mulberry32(seed)() * totalLines * 0.8);

    const first = await runChild({ ...args, resume: false }, env, journal, killAt);
    expect(first.signal ?? first.code, first.stderr).toBe('SIGKILL');
    const before = await readJournal(path.dirname(journal));
    const inFlight = [...before.values()].filter((r) => r.last.event === 'started').length;

    const second = await runChild({ ...args, resume: true }, env, journal);
    expect(second.code, `${second.stdout}${second.stderr}`).toBe(0);
    const summary = JSON.parse(second.stdout);
    inDoubt += inFlight;
    expect(summary.counts['done:found on the panel'] ?? 0).toBeLessThanOrEqual(inFlight);

    const generated = new Map((await readCodesCsv(args.codesOut)).map(([panel, slot, , code, status]) => [`${panel}#${slot}`, { code, status }]));
    for (const [name, { panel }] of fleet.panels) {
      const names = Object.fromEntries([...panel.state.users.entries()].map(([slot, u]) => [slot, u.name]));
      expect(names, name).toEqual({ 1: 'Alice', 2: 'Bob', 3: 'Carol', 10: 'New Person' });
      expect(panel.state.users.get(10).code, name).toBe('605918');
      expect(panel.state.users.get(3).code, name).toBe('370264');
      expect(generated.get(`${name}#2`), name).toEqual({ code: panel.state.users.get(2).code, status: 'applied' });
      expect(panel.stats.writeLog.length, `${name}: ${panel.stats.writeLog.join(' ')}`).toBe(STEPS_PER_PANEL);
      expect(new Set(panel.stats.writeLog).size, name).toBe(STEPS_PER_PANEL);
    }
  });
});

describe('across the seeds', () => {
  it('some kills landed while writes were in flight (so the check-before-rewrite path ran)', () => {
    expect(inDoubt).toBeGreaterThan(0);
  });
});
