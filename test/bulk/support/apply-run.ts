import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeBook } from '../../../src/bulk/codes.js';
import { readChanges } from '../../../src/bulk/input.js';
import { journalFile, planDir } from '../../../src/bulk/journal.js';
import { buildPlan, writePlan, type BulkPlan } from '../../../src/bulk/plan.js';
import { fake, type Fleet } from './fleet.js';

/**
 * The crash-and-resume suites (resume.test.ts, journal-durability.test.ts): a change list planned against a fleet
 * of fake panels as `bulk plan` does, then applied by a child process (apply-child.mjs, the compiled engine) that a
 * test may kill -9 once the journal has so many lines.
 */
const CHILD = fileURLToPath(new URL('./apply-child.mjs', import.meta.url));

export interface ChildArgs {
  planFile: string;
  inventoryFile: string;
  stateDir: string;
  codesFile: string;
  codesOut: string;
  concurrency: number;
}

export interface PlannedRun {
  plan: BulkPlan;
  /** The codes file, loaded (for an apply in this process). */
  book: CodeBook;
  /** The plan's journal, where the child writes. */
  journal: string;
  args: ChildArgs;
}

/** Plans `changes` (a change list) with `codes` (a codes file) on the fleet and writes the plan where the child reads it. */
export async function planOnFleet(
  fleet: Fleet,
  options: { changes: string; codes: string; planConcurrency: number; applyConcurrency: number },
): Promise<PlannedRun> {
  const changesFile = await fleet.file('changes.csv', options.changes, 0o644);
  const codesFile = await fleet.file('codes.csv', options.codes);
  const book = await CodeBook.load(codesFile);
  const rows = await readChanges(changesFile, { drivers: fleet.ctx.drivers, targets: fleet.targets, codes: book });
  const plan = await buildPlan(rows, fleet.targetMap, fleet.ctx, {
    concurrency: options.planConcurrency,
    codes: book,
    access: fake.access,
    source: { file: 'changes.csv', rows: rows.length },
  });
  const planFile = path.join(fleet.dir, 'plan.json');
  await writePlan(planFile, plan, fleet.stateDir);
  return {
    plan,
    book,
    journal: journalFile(planDir(fleet.stateDir, plan.id)),
    args: {
      planFile,
      inventoryFile: fleet.inventoryFile,
      stateDir: fleet.stateDir,
      codesFile,
      codesOut: path.join(fleet.dir, 'codes-out.csv'),
      concurrency: options.applyConcurrency,
    },
  };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the child on `run` (resuming or not); with `killAfterLines`, SIGKILLs it once the journal has that many lines. */
export function applyInChild(run: PlannedRun, options: { resume: boolean; killAfterLines?: number }): Promise<ChildResult> {
  const { killAfterLines } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ ...run.args, resume: options.resume })], {
      env: { PATH: process.env.PATH, BULK_TEST_CODE: process.env.BULK_TEST_CODE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const watch =
      killAfterLines === undefined
        ? undefined
        : setInterval(async () => {
            const text = await fs.readFile(run.journal, 'utf8').catch(() => '');
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
