import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readChanges } from '../../src/bulk/input.js';
import { CodeBook, GeneratedCodes } from '../../src/bulk/codes.js';
import { buildPlan, readPlan, writePlan, type BulkPlan } from '../../src/bulk/plan.js';
import { applyPlan, type ApplyReport } from '../../src/bulk/apply.js';
import { planStatus } from '../../src/bulk/status.js';
import { readAudit } from '../../src/audit/log.js';
import { allText, fake, startFleet, type Fleet, type SeedUser } from './support/fleet.js';
import { readCodesCsv } from '../support/codes-csv.js';

/**
 * 200 simulated panels on real TCP ports: plan a change list with adds, code changes,
 * removes, no-ops and conflicts; apply it 32 panels at a time; every panel must end exactly
 * as the plan says, with one write per step, and no code anywhere it should not be.
 */

const PANELS = 200;
const seeded = (i: number): SeedUser[] => {
  const users: SeedUser[] = [
    { slot: 1, name: 'Alice', code: `581${String(100 + (i % 900))}` },
    { slot: 2, name: 'Bob', code: `692${String(100 + (i % 900))}` },
    { slot: 3, name: 'Carol', code: `703${String(100 + (i % 900))}` },
    { slot: 61, name: 'Master', code: `914${String(100 + (i % 900))}` },
  ];
  if (i % 4 !== 0) users.push({ slot: 5, name: 'Leaver', code: `825${String(100 + (i % 900))}` });
  if (i % 10 === 4) users.push({ slot: 10, name: 'Someone', code: `836${String(100 + (i % 900))}` });
  if (i % 10 === 6) users.push({ slot: 10, name: 'Branch Manager', code: `847${String(100 + (i % 900))}` });
  return users;
};

const CHANGES = `panel,action,slot,user,name,partitions,code
*,remove,,Leaver,,,
site=oslo,add,10,,Branch Manager,1,generate
*,set-code,2,,,,codes:bob
p007,add,70,,Nobody,,generate
p008,set-code,,Zed,,,generate
p009,add,,,Cleaner,,codes:cleaner
p011,set-code,1,,,,codes:weak
`;
const CODES = `bob,cleaner,weak
,,
,,
739105,,
,,
,,
,402917,
,,4444
`;

let fleet: Fleet;
let plan: BulkPlan;
let planFile: string;
let report: ApplyReport;
let codesOut: string;
let codes: CodeBook;
let writesAfterPlan: number;

function expectedUsers(i: number, panelPlan: BulkPlan['panels'][number] | undefined): Map<number, string> {
  const table = new Map(seeded(i).map((u) => [u.slot, u.name]));
  for (const step of panelPlan?.steps ?? []) {
    if (step.action === 'remove') table.delete(step.slot);
    if (step.action === 'add') table.set(step.slot, step.name as string);
  }
  return table;
}

beforeAll(async () => {
  fleet = await startFleet(PANELS, (i) => ({ users: seeded(i), tags: { site: i % 2 === 0 ? 'oslo' : 'bergen' }, down: i === 199 }));
  const changesFile = await fleet.file('changes.csv', CHANGES, 0o644);
  const codesFile = await fleet.file('codes.csv', CODES);
  codes = await CodeBook.load(codesFile);
  const rows = await readChanges(changesFile, { drivers: fleet.ctx.drivers, targets: fleet.targets, codes });
  plan = await buildPlan(rows, fleet.targetMap, fleet.ctx, { concurrency: 16, codes, access: fake.access, source: { file: 'changes.csv', rows: rows.length } });
  writesAfterPlan = [...fleet.panels.values()].reduce((n, { panel }) => n + panel.stats.writes, 0);
  planFile = path.join(fleet.dir, 'plan.json');
  await writePlan(planFile, plan, fleet.stateDir);
  codesOut = path.join(fleet.dir, 'codes-out.csv');
  report = await applyPlan(await readPlan(planFile, fleet.stateDir), fleet.targetMap, fleet.ctx, {
    concurrency: 32,
    resume: false,
    retries: 2,
    backoffMs: 20,
    maxBackoffMs: 200,
    codes: { book: codes, generated: await GeneratedCodes.open(codesOut, 'refuse') },
    access: fake.access,
  });
}, 60_000);

afterAll(async () => {
  await fleet?.close();
});

const panelPlan = (name: string) => plan.panels.find((p) => p.panel === name);

describe('bulk plan over 200 panels', () => {
  it('finds the steps, the no-ops and the conflicts', () => {
    const p000 = panelPlan('p000')!;
    expect(p000.steps.map((s) => `${s.action}:${s.slot}`)).toEqual(['add:10', 'set-code:2']);
    expect(p000.noops).toEqual([expect.objectContaining({ action: 'remove', reason: expect.stringMatching(/no user named "Leaver"/) })]);
    expect(panelPlan('p001')!.steps.map((s) => `${s.action}:${s.slot}`)).toEqual(['remove:5', 'set-code:2']);
    // Slot 10 taken by someone else on oslo panels i % 10 == 4: a conflict, not a step.
    expect(panelPlan('p004')!.conflicts).toEqual([expect.objectContaining({ code: 'E_SLOT_TAKEN', slot: 10, reason: expect.stringContaining('Someone') })]);
    expect(panelPlan('p006')!.noops.map((n) => n.action)).toContain('add');
    expect(panelPlan('p007')!.conflicts[0]).toMatchObject({ code: 'E_NO_SUCH_SLOT', slot: 70 });
    expect(panelPlan('p008')!.conflicts[0]).toMatchObject({ code: 'E_NO_SUCH_USER' });
    expect(panelPlan('p009')!.steps.find((s) => s.action === 'add')).toMatchObject({ slot: 4, name: 'Cleaner' });
    expect(panelPlan('p011')!.conflicts[0]).toMatchObject({ code: 'E_CODE_POLICY' });
    expect(panelPlan('p011')!.conflicts[0].reason).not.toContain('4444');
    const down = panelPlan('p199')!;
    expect(down.steps).toEqual([]);
    expect(down.conflicts.every((c) => c.code === 'E_UNREACHABLE')).toBe(true);
    // Planning only reads: no panel saw a write.
    expect(writesAfterPlan).toBe(0);
  });

  it('records the inventory facts and an id that is the hash of its content', async () => {
    expect(plan.id).toMatch(/^[0-9a-f]{16}$/);
    expect(panelPlan('p000')!.facts).toEqual({ driver: 'integra', link: expect.stringMatching(/^tcp:\/\/127\.0\.0\.1:\d+$/), options: {} });
    const edited = JSON.parse(await fs.readFile(planFile, 'utf8'));
    edited.panels[0].steps[0].slot = 11;
    const editedFile = path.join(fleet.dir, 'edited.json');
    await fs.writeFile(editedFile, JSON.stringify(edited));
    await expect(readPlan(editedFile, fleet.stateDir)).rejects.toMatchObject({ code: 'E_PLAN_EDITED', exitCode: 2 });
  });
});

describe('bulk apply over 200 panels, 32 at a time', () => {
  it('leaves every panel exactly in the planned state, one write per step', async () => {
    const generated = new Map((await readCodesCsv(codesOut)).map(([panel, slot, , code, status]) => [`${panel}#${slot}`, { code, status }]));
    for (let i = 0; i < PANELS; i++) {
      const name = `p${String(i).padStart(3, '0')}`;
      const { panel } = fleet.panels.get(name)!;
      const pp = panelPlan(name);
      const actual = new Map([...panel.state.users.entries()].map(([slot, u]) => [slot, u.name]));
      expect(actual, name).toEqual(expectedUsers(i, pp));
      expect(panel.stats.writes, name).toBe(pp?.steps.length ?? 0);
      for (const step of pp?.steps ?? []) {
        if (step.code?.source === 'codes') expect(panel.state.users.get(step.slot).code).toBe(codes.get(step.code.column, step.code.row).reveal());
        if (step.code?.source === 'generate') {
          expect(generated.get(`${name}#${step.slot}`)).toEqual({ code: panel.state.users.get(step.slot).code, status: 'applied' });
        }
      }
    }
    expect(report.outcomes.every((o) => o.status === 'done')).toBe(true);
    expect(report.outcomes.length).toBe(plan.panels.reduce((n, p) => n + p.steps.length, 0));
  });

  it('audits every write, and the journal and status agree', async () => {
    const audit = await readAudit(fleet.stateDir);
    expect(audit.length).toBe(report.outcomes.length);
    expect(audit.every((e) => e.outcome === 'ok' && e.details?.bulkPlan === plan.id)).toBe(true);
    const status = await planStatus(plan, fleet.stateDir);
    expect(status.counts).toEqual({ done: report.outcomes.length, failed: 0, 'in flight': 0, pending: 0 });
  });

  it('refuses to apply the same plan again without --resume; with it, writes nothing more', async () => {
    const options = { concurrency: 8, retries: 0, backoffMs: 10, maxBackoffMs: 10, codes: { book: codes }, access: fake.access };
    await expect(applyPlan(plan, fleet.targetMap, fleet.ctx, { ...options, resume: false })).rejects.toMatchObject({ code: 'E_APPLIED_BEFORE' });
    const writesBefore = [...fleet.panels.values()].reduce((n, { panel }) => n + panel.stats.writes, 0);
    const again = await applyPlan(plan, fleet.targetMap, fleet.ctx, { ...options, resume: true });
    expect(again.outcomes.every((o) => o.status === 'done' && o.how === 'done earlier')).toBe(true);
    expect([...fleet.panels.values()].reduce((n, { panel }) => n + panel.stats.writes, 0)).toBe(writesBefore);
  });

  it('keeps every code out of the plan, the journal and the audit log', async () => {
    const secrets = new Set<string>();
    for (const { panel } of fleet.panels.values()) for (const u of panel.state.users.values()) secrets.add(u.code);
    for (let i = 0; i < PANELS; i++) for (const u of seeded(i)) secrets.add(u.code);
    secrets.add('739105').add('402917').add('4444');
    const written = `${await fs.readFile(planFile, 'utf8')}\n${await allText(fleet.stateDir)}`;
    const leaked = [...secrets].filter((code) => new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(written));
    expect(leaked).toEqual([]);
    expect((await fs.stat(codesOut)).mode & 0o777).toBe(0o600);
  });
});
