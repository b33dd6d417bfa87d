import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { parseLink } from '../../src/core/link.js';
import { readChanges } from '../../src/bulk/input.js';
import { drivers } from '../../drivers/index.js';
import { CodeBook } from '../../src/bulk/codes.js';
import { buildPlan, type BulkPlan } from '../../src/bulk/plan.js';
import { applyPlan, type ApplyEvent, type ApplyReport } from '../../src/bulk/apply.js';
import { fake, startFleet, type Fleet } from './support/fleet.js';

/**
 * Faults during apply: slow panels, replies that never come, connections cut right after a
 * write landed, a panel busy with another client, a panel gone, and a panel that no longer
 * takes the credential. Retries must recover what is transient, never repeat a write, and
 * never retry a refused credential.
 */

const CHANGES = `panel,action,slot,user,name,partitions,code
*,add,10,,Night Guard,,codes:guard
*,remove,5,,,,
*,set-code,2,,,,generate
`;
const CODES = 'guard\n480613\n';

const ROLES: Record<string, string> = {
  p000: 'slow',
  p001: 'slow',
  p002: 'drop',
  p003: 'drop',
  p004: 'cut',
  p005: 'cut',
  p006: 'busy',
  p007: 'gone',
  p008: 'wrong-credential',
};

let fleet: Fleet;
let plan: BulkPlan;
let report: ApplyReport;
const events: ApplyEvent[] = [];
let holder: net.Socket;

beforeAll(async () => {
  fleet = await startFleet(16, (i) => ({
    users: [
      { slot: 1, name: 'Alice', code: `51${1000 + i}` },
      { slot: 2, name: 'Bob', code: `62${1000 + i}` },
      { slot: 5, name: 'Leaver', code: `84${1000 + i}` },
    ],
  }));
  fleet.ctx.timeoutMs = 400;
  for (const t of fleet.targets) t.timeoutMs = 400;
  const codes = await CodeBook.load(await fleet.file('codes.csv', CODES));
  const rows = await readChanges(await fleet.file('changes.csv', CHANGES, 0o644), { drivers, targets: fleet.targets, codes });
  plan = await buildPlan(rows, fleet.targetMap, fleet.ctx, { concurrency: 16, codes, access: fake.access, source: { file: 'changes.csv', rows: rows.length } });

  // The faults start after planning, as they would on a real night.
  const panel = (name: string) => fleet.panels.get(name)!;
  for (const [name, role] of Object.entries(ROLES)) {
    const { panel: sim, port } = panel(name);
    if (role === 'slow') sim.setFaults({ latencyMs: 120 });
    if (role === 'drop') sim.setFaults({ dropReplies: 1 });
    if (role === 'cut') sim.setFaults({ cutAfterWrites: 2 });
    if (role === 'gone') {
      // Gone after planning: its address stops answering. That address becomes port 1, where nothing listens, in the
      // inventory and the plan alike; closing the simulator instead would free a port that a simulator of another
      // test file running in parallel may be given, and this run would then talk to (and hold) that panel.
      await sim.close();
      const target = fleet.targetMap.get(name)!;
      target.link = parseLink('tcp://127.0.0.1:1');
      plan.panels.find((p) => p.panel === name)!.facts.link = target.link.url;
    }
    if (role === 'wrong-credential') sim.setCredential('9731');
    if (role === 'busy') {
      // Another client holds the panel for a while (the panel serves one at a time).
      const seen = sim.stats.connections;
      holder = net.connect(port, '127.0.0.1');
      while (sim.stats.connections === seen) await new Promise((r) => setTimeout(r, 5));
      setTimeout(() => holder.destroy(), 150);
    }
  }
  report = await applyPlan(plan, fleet.targetMap, fleet.ctx, {
    concurrency: 16,
    resume: false,
    retries: 3,
    backoffMs: 60,
    maxBackoffMs: 400,
    codes: { book: codes },
    access: fake.access,
    onEvent: (e) => events.push(e),
  });
}, 60_000);

afterAll(async () => {
  holder?.destroy();
  await fleet?.close();
});

const outcomesOf = (panel: string) => report.outcomes.filter((o) => o.panel === panel);
const retriesOf = (panel: string) => events.filter((e) => e.type === 'retry' && e.panel === panel);

describe('bulk apply under faults', () => {
  it('finishes slow, dropping, cutting and busy panels, each write exactly once', () => {
    for (const name of ['p000', 'p001', 'p002', 'p003', 'p004', 'p005', 'p006', 'p009', 'p015']) {
      const { panel } = fleet.panels.get(name)!;
      expect(
        outcomesOf(name).map((o) => o.status),
        name,
      ).toEqual(['done', 'done', 'done']);
      expect(panel.stats.writeLog, name).toEqual(['create:10', 'delete:5', 'change:2']);
      expect(
        [...panel.state.users.keys()].sort((a, b) => a - b),
        name,
      ).toEqual([1, 2, 10]);
    }
  });

  it('retries transient failures with backoff, and reads the panel before writing again', () => {
    expect(retriesOf('p002').map((e) => e.type === 'retry' && e.code)).toEqual(['E_TIMEOUT']);
    expect(retriesOf('p006').every((e) => e.type === 'retry' && e.code === 'E_BUSY')).toBe(true);
    expect(retriesOf('p006').length).toBeGreaterThan(0);
    // Cut after the write landed: the retry found it on the panel instead of writing again.
    const cut = outcomesOf('p004');
    expect(cut.slice(0, 2).map((o) => o.how)).toEqual(['found on the panel', 'found on the panel']);
    expect(retriesOf('p004').map((e) => e.type === 'retry' && e.code)).toEqual(['E_LOST', 'E_LOST']);
    expect(retriesOf('p000')).toEqual([]);
  });

  it('gives up on a panel that is gone after the retries, and skips the rest of its steps', () => {
    const [first, ...rest] = outcomesOf('p007');
    expect(first).toMatchObject({ status: 'failed', code: 'E_REFUSED', attempts: 4 });
    expect(rest.every((o) => o.status === 'skipped' && /could not be reached/.test(o.reason ?? ''))).toBe(true);
  });

  it('stops a panel at the first refused credential and never tries it again', () => {
    const { panel } = fleet.panels.get('p008')!;
    const [first, ...rest] = outcomesOf('p008');
    expect(first).toMatchObject({ status: 'failed', code: 'E_WRONG_CREDENTIAL', attempts: 1 });
    expect(rest.map((o) => o.status)).toEqual(['skipped', 'skipped']);
    expect(panel.stats.wrongCredentials).toBe(1);
    expect(panel.stats.writes).toBe(0);
    expect(retriesOf('p008')).toEqual([]);
  });

  it('counts right in the summary', () => {
    const count = (status: string) => report.outcomes.filter((o) => o.status === status).length;
    expect(count('done')).toBe(14 * 3);
    expect(count('failed')).toBe(2);
    expect(count('skipped')).toBe(4);
  });
});
