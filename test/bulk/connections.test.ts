import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync } from 'node:fs';
import { readChanges } from '../../src/bulk/input.js';
import { drivers } from '../../drivers/index.js';
import { CodeBook } from '../../src/bulk/codes.js';
import { buildPlan, type BulkPlan } from '../../src/bulk/plan.js';
import { applyPlan, type ApplyReport } from '../../src/bulk/apply.js';
import type { PanelAccess } from '../../src/bulk/access.js';
import { journalFile, planDir, type JournalEntry } from '../../src/bulk/journal.js';
import { auditPaths, type AuditEntry } from '../../src/audit/log.js';
import { lockPanel } from '../../src/operations/session.js';
import { fake, startFleet, type Fleet } from './support/fleet.js';

/**
 * What --concurrency bounds, and what a panel keeps after its last exchange (issue 20): bulk apply
 * hangs up on a panel as soon as its last step has had its answer and gives that connection to the
 * next panel, while the panel's audit entry is synced and its journal line written. The panel's
 * work lock is held until both are done: no other process may act on the panel before its last
 * write is on record.
 */

const CHANGES = `panel,action,slot,user,name,partitions,code
*,set-code,2,,,,codes:new
*,remove,5,,,,
`;
const CONCURRENCY = 3;

let fleet: Fleet;
let plan: BulkPlan;
let report: ApplyReport;
let connected = 0;
let mostConnected = 0;
/** Per panel, what was on record when its work lock was released. */
const atRelease = new Map<string, { auditEntries: number; headNamesThem: boolean; journalDone: number }>();

/** What the audit and the journal hold about `panel` right now (read synchronously: nothing moves meanwhile). */
function onRecord(panel: string) {
  const jsonLines = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const entries = (jsonLines(auditPaths(fleet.stateDir).log) as AuditEntry[]).filter((e) => e.panel === panel);
  const head = JSON.parse(readFileSync(auditPaths(fleet.stateDir).head, 'utf8')) as { seq: number };
  const journal = jsonLines(journalFile(planDir(fleet.stateDir, plan.id))) as JournalEntry[];
  const journalDone = journal.filter((e) => e.panel === panel && e.event === 'done').length;
  // The head is renamed into place only once the log lines it names are synced (audit/log.ts).
  return { auditEntries: entries.length, headNamesThem: entries.every((e) => e.seq <= head.seq), journalDone };
}

/** The fake panels' access with the real per-panel work lock, counting connections as openPanel's would be. */
const access: PanelAccess = {
  describe: fake.access.describe,
  async open(target, ctx) {
    const lock = await lockPanel(target, ctx);
    connected++;
    mostConnected = Math.max(mostConnected, connected);
    const open = await fake.access.open(target, ctx);
    let hungUp: Promise<void> | undefined;
    let closed: Promise<void> | undefined;
    const hangUp = () =>
      (hungUp ??= open.close().then(() => {
        connected--;
      }));
    return {
      ...open,
      hangUp,
      close: () =>
        (closed ??= (async () => {
          await hangUp();
          atRelease.set(target.name, onRecord(target.name));
          await lock.release();
        })()),
    };
  },
};

beforeAll(async () => {
  fleet = await startFleet(12, (i) => ({
    users: [
      { slot: 2, name: 'Bob', code: `62${1000 + i}` },
      { slot: 5, name: 'Leaver', code: `84${1000 + i}` },
    ],
  }));
  const codes = await CodeBook.load(await fleet.file('codes.csv', 'new\n583920\n'));
  const rows = await readChanges(await fleet.file('changes.csv', CHANGES, 0o644), { drivers, targets: fleet.targets, codes });
  plan = await buildPlan(rows, fleet.targetMap, fleet.ctx, { concurrency: 4, codes, access: fake.access, source: { file: 'changes.csv', rows: rows.length } });
  // Answers that take a while, so that panels overlap.
  for (const { panel } of fleet.panels.values()) panel.setFaults({ latencyMs: 5 });
  report = await applyPlan(plan, fleet.targetMap, fleet.ctx, {
    concurrency: CONCURRENCY,
    resume: false,
    retries: 0,
    backoffMs: 10,
    maxBackoffMs: 10,
    codes: { book: codes },
    access,
  });
}, 60_000);

afterAll(async () => {
  await fleet?.close();
});

describe('bulk apply connections', () => {
  it('applies every step once', () => {
    expect(report.outcomes.map((o) => o.status)).toEqual(Array(24).fill('done'));
    for (const { panel } of fleet.panels.values()) expect(panel.stats.writeLog).toEqual(['change:2', 'delete:5']);
  });

  it('is never connected to more panels at once than --concurrency', () => {
    expect(connected).toBe(0);
    expect(mostConnected).toBeGreaterThan(1);
    expect(mostConnected).toBeLessThanOrEqual(CONCURRENCY);
  });

  it("holds a panel's work lock until its last audit entry is synced and its journal says done", () => {
    expect(atRelease.size).toBe(12);
    for (const [panel, record] of atRelease) expect(record, panel).toEqual({ auditEntries: 2, headNamesThem: true, journalDone: 2 });
  });
});

describe('bulk apply: a failure after a panel has hung up', () => {
  let tail: Fleet;
  let tailReport: ApplyReport;

  beforeAll(async () => {
    tail = await startFleet(2, (i) => ({ users: [{ slot: 2, name: 'Bob', code: `62${1000 + i}` }] }));
    const codes = await CodeBook.load(await tail.file('codes.csv', 'new\n583920\n'));
    const rows = await readChanges(await tail.file('changes.csv', 'panel,action,slot,code\n*,set-code,2,codes:new\n', 0o644), {
      drivers,
      targets: tail.targets,
      codes,
    });
    const tailPlan = await buildPlan(rows, tail.targetMap, tail.ctx, { concurrency: 2, codes, access: fake.access, source: { file: 'changes.csv', rows: 1 } });
    // Once the first panel has hung up, the state dir is opened to others: its audit entry, written
    // after the hang-up, is refused (a state dir others can read is not used), and so is every later one.
    let first = true;
    const breaking: PanelAccess = {
      describe: fake.access.describe,
      async open(target, ctx) {
        const open = await fake.access.open(target, ctx);
        return {
          ...open,
          hangUp: async () => {
            // At once, as the engine calls hangUp: before the audit entry it writes next (after the close's round
            // trip, a fast audit check sometimes came first and the entry was written).
            if (first) chmodSync(tail.stateDir, 0o755);
            first = false;
            await open.close();
          },
        };
      },
    };
    tailReport = await applyPlan(tailPlan, tail.targetMap, tail.ctx, {
      concurrency: 1,
      resume: false,
      retries: 0,
      backoffMs: 10,
      maxBackoffMs: 10,
      codes: { book: codes },
      access: breaking,
    });
  }, 60_000);

  afterAll(async () => {
    await tail?.close();
  });

  it('reports the failure of its audit entry for that panel and step, and the next panel writes nothing without one', () => {
    const [a, b] = tailReport.outcomes;
    expect(a).toMatchObject({ panel: 'p000', status: 'failed', code: 'E_PERMISSIONS' });
    expect(a.step.id).toBe('p000/1');
    expect(tail.panels.get('p000')!.panel.stats.writeLog).toEqual(['change:2']);
    expect(b).toMatchObject({ panel: 'p001', status: 'failed', code: 'E_PERMISSIONS' });
    expect(tail.panels.get('p001')!.panel.stats.writeLog).toEqual([]);
  });
});
