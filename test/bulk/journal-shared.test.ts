import { afterEach, describe, expect, it } from 'vitest';
import { Journal, journalFile, planDir, readJournal, sharedPlan, type JournalEntry } from '../../src/bulk/journal.js';
import { closeSharedStores, configureSharedStore, type SharedStore } from '../../src/state/store.js';

/**
 * With a shared store (team mode), a plan's journal is the store's: appended and read there by
 * plan id, never as files under the (here nonexistent) state dir.
 */
const STATE = '/nonexistent/panelctl-shared-journal';
const PLAN = '0123456789abcdef';

function fakeStore(rows: Array<{ plan: string; shard: string; entry: JournalEntry }>): SharedStore {
  return {
    kind: 'postgres',
    description: 'fake',
    workLocks: { acquire: async () => ({ release: async () => undefined }) },
    leases: {} as never,
    audit: {} as never,
    bulk: {
      appendJournal: async (plan, shard, entries) => {
        for (const entry of entries) rows.push({ plan, shard, entry });
      },
      readJournal: async (plan) => rows.filter((r) => r.plan === plan).map((r) => r.entry),
      plansWithJournals: async () => [...new Set(rows.map((r) => r.plan))],
      liveClaims: async () => [],
      claim: async () => async () => undefined,
    },
    stateKey: async () => ({}) as never,
    sweepLeadership: () => ({ lead: async () => true, release: async () => undefined }),
    close: async () => undefined,
  };
}

afterEach(() => closeSharedStores());

describe('a plan journal in a shared store', () => {
  it('names the store and the plan from the plan directory', async () => {
    const store = fakeStore([]);
    configureSharedStore(STATE, async () => store);
    expect(await sharedPlan(planDir(STATE, PLAN))).toEqual({ store, plan: PLAN });
    expect(await sharedPlan(planDir('/elsewhere', PLAN))).toBeUndefined();
  });

  it('appends each shard to the plan rows and reads every shard back, merged in time order', async () => {
    const rows: Array<{ plan: string; shard: string; entry: JournalEntry }> = [];
    configureSharedStore(STATE, async () => fakeStore(rows));
    const dir = planDir(STATE, PLAN);
    const shard0 = await Journal.open(journalFile(dir, { index: 0, count: 2 }));
    await shard0.append({ step: 's1', panel: 'p1', event: 'started', slot: 1 });
    await shard0.append({ step: 's1', panel: 'p1', event: 'done', slot: 1, how: 'written' });
    await shard0.close();
    const all = await Journal.open(journalFile(dir));
    await all.append({ step: 's2', panel: 'p2', event: 'started', slot: 2, codesFile: '/tmp/codes.csv' });
    await all.close();

    expect(rows.map((r) => `${r.plan} ${r.shard} ${r.entry.step} ${r.entry.event}`)).toEqual([
      `${PLAN} journal.shard-0-of-2 s1 started`,
      `${PLAN} journal.shard-0-of-2 s1 done`,
      `${PLAN} journal s2 started`,
    ]);
    expect(rows.every((r) => typeof r.entry.time === 'string')).toBe(true);
    const steps = await readJournal(dir);
    expect(steps.get('s1')).toMatchObject({ last: { event: 'done' }, started: true });
    expect(steps.get('s2')).toMatchObject({ last: { event: 'started' }, started: true, codesFile: '/tmp/codes.csv' });
  });
});
