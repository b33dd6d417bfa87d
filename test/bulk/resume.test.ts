import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readJournal } from '../../src/bulk/journal.js';
import { applyInChild, planOnFleet } from './support/apply-run.js';
import { ensureBuilt } from './support/build.js';
import { fake, startFleet, type Fleet, type SeedUser } from './support/fleet.js';
import { defaultGeneratedLength } from '../../src/core/code-policy.js';
import { readCodesCsv } from '../support/codes-csv.js';

/**
 * kill -9 of the applying process at random points, then --resume: every panel must end in
 * the planned state and no write may be repeated (each simulator logs its writes).
 */

const PANELS = 40;
const STEPS_PER_PANEL = 4;

// Every code the test gives is 5 digits and every drawn one is 6 (the fake panel's default length): a drawn code
// equal to a user's code, or to the codes-file code planned for slot 3, is refused by the panel (E_CODE_REJECTED,
// as an INTEGRA does) and failed this file about once in 1,250 runs (5 such codes a panel, 160 panels a run, 10^6 codes).
const users = (i: number): SeedUser[] => [
  { slot: 1, name: 'Alice', code: `51${String(100 + i)}` },
  { slot: 2, name: 'Bob', code: `62${String(100 + i)}` },
  { slot: 3, name: 'Carol', code: `73${String(100 + i)}` },
  { slot: 5, name: 'Leaver', code: `84${String(100 + i)}` },
];
const CHANGES = `panel,action,slot,user,name,partitions,code
*,add,10,,New Person,,codes:new
*,set-code,2,,,,generate
*,remove,,Leaver,,,
*,set-code,3,,,,codes:carol
`;
const CODES = 'new,carol\n60591,\n,\n,\n,37026\n';

beforeAll(ensureBuilt, 60_000);

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
    const run = await planOnFleet(fleet, { changes: CHANGES, codes: CODES, planConcurrency: 16, applyConcurrency: 6 });
    expect(run.plan.panels.every((p) => p.steps.length === STEPS_PER_PANEL)).toBe(true);
    const totalLines = PANELS * STEPS_PER_PANEL * 2;
    const killAt = 3 + Math.floor(mulberry32(seed)() * totalLines * 0.8);

    const first = await applyInChild(run, { resume: false, killAfterLines: killAt });
    expect(first.signal ?? first.code, first.stderr).toBe('SIGKILL');
    const before = await readJournal(path.dirname(run.journal));
    const inFlight = [...before.values()].filter((r) => r.last.event === 'started').length;

    const second = await applyInChild(run, { resume: true });
    expect(second.code, `${second.stdout}${second.stderr}`).toBe(0);
    const summary = JSON.parse(second.stdout);
    inDoubt += inFlight;
    expect(summary.counts['done:found on the panel'] ?? 0).toBeLessThanOrEqual(inFlight);

    const generated = new Map((await readCodesCsv(run.args.codesOut)).map(([panel, slot, , code, status]) => [`${panel}#${slot}`, { code, status }]));
    for (const [name, { panel }] of fleet.panels) {
      const names = Object.fromEntries([...panel.state.users.entries()].map(([slot, u]) => [slot, u.name]));
      expect(names, name).toEqual({ 1: 'Alice', 2: 'Bob', 3: 'Carol', 10: 'New Person' });
      expect(panel.state.users.get(10).code, name).toBe('60591');
      expect(panel.state.users.get(3).code, name).toBe('37026');
      expect(generated.get(`${name}#2`), name).toEqual({ code: panel.state.users.get(2).code, status: 'applied' });
      expect(panel.stats.writeLog.length, `${name}: ${panel.stats.writeLog.join(' ')}`).toBe(STEPS_PER_PANEL);
      expect(new Set(panel.stats.writeLog).size, name).toBe(STEPS_PER_PANEL);
    }
  });
});

describe('the fixtures', () => {
  it('hold no code a drawn code could equal (the panel refuses a code another user has)', () => {
    const drawn = defaultGeneratedLength(fake.info.codeRules);
    const given = [...Array.from({ length: PANELS }, (_, i) => users(i).map((u) => u.code)).flat(), ...CODES.split(/[\n,]/).slice(2).filter(Boolean)];
    expect(given.filter((code) => code.length === drawn)).toEqual([]);
  });
});

describe('across the seeds', () => {
  it('some kills landed while writes were in flight (so the check-before-rewrite path ran)', () => {
    expect(inDoubt).toBeGreaterThan(0);
  });
});
