import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Journal, journalFile, readJournal, type JournalEntry } from '../../src/bulk/journal.js';
import type { PlanStep } from '../../src/bulk/plan.js';
import { applyPlan } from '../../src/bulk/apply.js';
import type { PanelAccess } from '../../src/bulk/access.js';
import { settlesByAsking } from '../../src/bulk/settle.js';
import type { PanelSession } from '../../src/core/contract.js';
import { applyInChild, planOnFleet } from './support/apply-run.js';
import { ensureBuilt } from './support/build.js';
import { fake, startFleet, type Fleet } from './support/fleet.js';

/**
 * Issue 20: only 'started' lines are synced before the run moves on; 'done' and 'failed' reach
 * the disk with the next sync. The safety argument (src/bulk/journal.ts): a crash of the machine
 * can lose only outcome lines written after the last sync, and --resume settles each such step
 * by asking the panel, without writing it again.
 */

const roots: string[] = [];
afterAll(async () => {
  for (const dir of roots) await fs.rm(dir, { recursive: true, force: true });
});

describe('when journal lines reach the disk', () => {
  afterEach(() => vi.restoreAllMocks());

  it("syncs a 'started' line before append resolves, and an outcome line with the next sync or at close", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-journal-sync-'));
    roots.push(dir);
    const file = journalFile(path.join(dir, 'bulk', 'plan'));
    const journal = await Journal.open(file);
    // What was in the file each time it was synced: what a crash of the machine would keep.
    let durable: string[] = [];
    const probe = await fs.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = proto.datasync;
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: fs.FileHandle) {
      const written = readFileSync(file, 'utf8');
      await datasync.call(this);
      durable = written
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const e = JSON.parse(l) as JournalEntry;
          return `${e.step}:${e.event}`;
        });
    });

    await journal.append({ step: 'a', panel: 'p', event: 'started', slot: 1 });
    expect(durable).toEqual(['a:started']);
    await journal.append({ step: 'a', panel: 'p', event: 'done', how: 'written' }, { durable: false });
    await journal.append({ step: 'b', panel: 'p', event: 'failed' }, { durable: false });
    // Written (every reader, and a resume after kill -9, sees them), not yet synced.
    expect(readFileSync(file, 'utf8')).toContain('"event":"failed"');
    expect(durable).toEqual(['a:started']);
    // 'started' cannot be left for later, whatever the caller says.
    await journal.append({ step: 'c', panel: 'p', event: 'started' }, { durable: false });
    expect(durable).toEqual(['a:started', 'a:done', 'b:failed', 'c:started']);
    await journal.append({ step: 'c', panel: 'p', event: 'done' }, { durable: false });
    expect(durable).toHaveLength(4);
    // By default an outcome is on disk when append resolves (a 'done' only a person could settle).
    await journal.append({ step: 'd', panel: 'p', event: 'done' });
    expect(durable).toEqual(['a:started', 'a:done', 'b:failed', 'c:started', 'c:done', 'd:done']);
    await journal.append({ step: 'e', panel: 'p', event: 'failed' }, { durable: false });
    await journal.close();
    expect(durable).toEqual(['a:started', 'a:done', 'b:failed', 'c:started', 'c:done', 'd:done', 'e:failed']);
  });
});

describe("which 'done' lines may wait for the next sync", () => {
  const step = (action: PlanStep['action'], source?: 'codes' | 'generate'): PlanStep =>
    ({ id: 'p/1', row: 1, action, slot: 2, name: 'Bob', ...(source ? { code: { source, column: 'new', row: 1 } } : {}) }) as PlanStep;
  const reader = { readUser: async () => undefined, listUsers: async () => [] };
  const checker = { verifyCode: async () => true };
  const full = { reader, codeChecker: checker } as unknown as PanelSession;
  const noChecker = { reader } as unknown as PanelSession;

  it('those a resume settles by asking the panel: a slot it reads back, a code its checker proved', () => {
    expect(settlesByAsking(step('add', 'codes'), full, 'code-check', false)).toBe(true);
    expect(settlesByAsking(step('remove'), full, 'read-back', false)).toBe(true);
    expect(settlesByAsking(step('set-code', 'codes'), full, 'code-check', false)).toBe(true);
    expect(settlesByAsking(step('set-code', 'generate'), full, 'code-check', true)).toBe(true);
  });

  it('not those it would leave to a person: a code the panel cannot check, a drawn code not saved, a slot it cannot read', () => {
    expect(settlesByAsking(step('set-code', 'codes'), noChecker, 'read-back', false)).toBe(false);
    expect(settlesByAsking(step('set-code', 'codes'), full, 'panel-ack', false)).toBe(false);
    expect(settlesByAsking(step('set-code', 'generate'), full, 'code-check', false)).toBe(false);
    expect(settlesByAsking(step('add', 'generate'), full, 'read-back', false)).toBe(false);
    expect(settlesByAsking(step('remove'), {} as PanelSession, 'panel-ack', false)).toBe(false);
    const checkerOnly = { codeChecker: checker } as unknown as PanelSession;
    expect(settlesByAsking(step('set-code', 'codes'), checkerOnly, 'code-check', false)).toBe(false);
    expect(settlesByAsking({ ...step('set-code', 'codes'), blind: true }, full, 'code-check', false)).toBe(false);
  });
});

const PANELS = 12;
const CHANGES = 'panel,action,slot,user,name,partitions,code\n*,add,10,,New Person,,codes:new\n*,set-code,2,,,,codes:bob\n*,remove,,Leaver,,,\n';
const CODES = 'new,bob\n605918,\n,370264\n';

/**
 * The journal as a crash of the machine at this moment may leave it: everything up to the last
 * 'started' line (synced before its write was sent), none of the outcome lines after it.
 */
async function loseUnsyncedTail(file: string): Promise<number> {
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
  const events = lines.map((l) => (JSON.parse(l) as JournalEntry).event);
  const last = events.lastIndexOf('started');
  await fs.writeFile(
    file,
    lines
      .slice(0, last + 1)
      .map((l) => `${l}\n`)
      .join(''),
  );
  return lines.length - last - 1;
}

describe('a crash of the machine before outcome lines were synced, then --resume', () => {
  let fleet: Fleet | undefined;
  beforeAll(ensureBuilt, 60_000);
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it.each([
    ['after the run finished', undefined],
    ['in the middle of the run', 30],
  ])(
    '%s: asks the panels about the steps whose outcome was lost, and writes nothing twice',
    async (_when, killAfterLines) => {
      fleet = await startFleet(PANELS, () => ({
        users: [
          { slot: 2, name: 'Bob', code: '640211' },
          { slot: 5, name: 'Leaver', code: '840213' },
        ],
      }));
      for (const { panel } of fleet.panels.values()) panel.setFaults({ latencyMs: 2 });
      const run = await planOnFleet(fleet, { changes: CHANGES, codes: CODES, planConcurrency: 8, applyConcurrency: 4 });
      const { journal } = run;

      const first = await applyInChild(run, { resume: false, killAfterLines });
      if (killAfterLines === undefined) expect(first.code, first.stdout + first.stderr).toBe(0);
      else expect(first.signal, first.stdout + first.stderr).toBe('SIGKILL');
      const lost = await loseUnsyncedTail(journal);
      // A finished run ends with outcome lines; a killed one may have been cut right after a 'started'.
      if (killAfterLines === undefined) expect(lost).toBeGreaterThan(0);
      const inDoubt = [...(await readJournal(path.dirname(journal))).values()].filter((r) => r.last.event === 'started').length;
      expect(inDoubt).toBeGreaterThan(0);

      const resumed = await applyInChild(run, { resume: true });
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const { counts } = JSON.parse(resumed.stdout) as { counts: Record<string, number> };
      if (lost > 0) expect(counts['done:found on the panel'] ?? 0).toBeGreaterThan(0);
      for (const [name, { panel }] of fleet.panels) {
        expect(Object.fromEntries([...panel.state.users.entries()].map(([slot, u]) => [slot, u.name])), name).toEqual({ 2: 'Bob', 10: 'New Person' });
        expect(panel.state.users.get(2).code, name).toBe('370264');
        // Each planned write exactly once, however the crash fell.
        expect([...panel.stats.writeLog].sort(), name).toEqual(['change:2', 'create:10', 'delete:5']);
      }
    },
    90_000,
  );
});

describe("a write is sent only once its 'started' line is on disk", () => {
  let fleet: Fleet | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await fleet?.close();
    fleet = undefined;
  });

  it("while the step's first question goes to the panel, the line is synced; the write waits for it (add, set-code, remove)", async () => {
    fleet = await startFleet(4, () => ({
      users: [
        { slot: 2, name: 'Bob', code: '640211' },
        { slot: 5, name: 'Leaver', code: '840213' },
      ],
    }));
    const { plan, journal, book } = await planOnFleet(fleet, { changes: CHANGES, codes: CODES, planConcurrency: 4, applyConcurrency: 4 });

    // What the journal held at its last completed sync: what a crash of the machine would keep.
    // Each sync is slow, so a write sent without waiting for it would arrive first.
    let durable = new Set<string>();
    const probe = await fs.open(path.join(fleet.dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = proto.datasync;
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: fs.FileHandle) {
      const written = readFileSync(journal, 'utf8');
      await new Promise((resolve) => setTimeout(resolve, 30));
      await datasync.call(this);
      durable = new Set(
        written
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as JournalEntry)
          .filter((e) => e.event === 'started')
          .map((e) => `${e.panel} slot ${e.slot}`),
      );
    });

    // Every write the panels receive, and whether its 'started' line was on disk when it was sent.
    const sent: Array<{ write: string; startedOnDisk: boolean }> = [];
    const access: PanelAccess = {
      describe: fake.access.describe,
      async open(target, ctx) {
        const open = await fake.access.open(target, ctx);
        const session = open.session;
        const watched = (name: 'createUser' | 'changeCode' | 'deleteUser') => {
          const original = session[name];
          session[name] = (...args: unknown[]) => {
            const slot = name === 'createUser' ? (args[0] as { slot: number }).slot : (args[0] as number);
            sent.push({ write: `${target.name} ${name} ${slot}`, startedOnDisk: durable.has(`${target.name} slot ${slot}`) });
            return original(...args);
          };
        };
        watched('createUser');
        watched('changeCode');
        watched('deleteUser');
        return open;
      },
    };
    const report = await applyPlan(plan, fleet.targetMap, fleet.ctx, {
      concurrency: 4,
      resume: false,
      retries: 0,
      backoffMs: 10,
      maxBackoffMs: 10,
      codes: { book },
      access,
    });
    expect(report.outcomes.map((o) => o.status)).toEqual(Array(12).fill('done'));
    expect(sent).toHaveLength(12);
    expect(sent.filter((s) => !s.startedOnDisk)).toEqual([]);
  }, 60_000);
});
