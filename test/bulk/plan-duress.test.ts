import { describe, expect, it } from 'vitest';
import type { DriverInfo, UserSlot } from '../../src/core/contract.js';
import { readOnlySession } from '../support/read-only-session.js';
import type { PanelAccess } from '../../src/bulk/access.js';
import type { ChangeRow } from '../../src/bulk/input.js';
import { buildPlan } from '../../src/bulk/plan.js';
import { parseInventory } from '../../src/inventory/load.js';
import { allTargets } from '../../src/inventory/targets.js';
import { drivers } from '../../drivers/index.js';

/**
 * A set-code row for a user in a duress (hold-up) slot needs the row's duress mark (issue 17 item 4), however the row
 * names the user: by slot or by name. No shipped driver keeps names and has duress slots, so a panel that does is
 * described and listed here (the plan only reads: PanelAccess is the seam bulk offers for that).
 */

const info: DriverInfo = {
  name: 'named-duress',
  title: 'test panel with user names and a duress slot',
  transports: ['tcp'],
  facets: { writer: { proofs: ['read-back'], nextSlot: false }, reader: true, codeChecker: false, testMode: false, probe: false },
  codeRules: { minLength: 4, maxLength: 6 },
  slotRanges: [
    { from: 1, to: 7, kind: 'user' },
    { from: 8, to: 8, kind: 'duress' },
  ],
  secrets: [],
};
const users: UserSlot[] = [
  { slot: 2, kind: 'user', name: 'Anna', hasCode: true },
  { slot: 8, kind: 'duress', name: 'Hold-up', hasCode: true },
];
const access: PanelAccess = {
  describe: async () => info,
  open: async () => {
    const session = readOnlySession(info, users);
    return { session, info, secrets: [], close: async () => undefined, release: async () => undefined } as unknown as Awaited<ReturnType<PanelAccess['open']>>;
  },
};
const [target] = allTargets(parseInventory('panels:\n  vault:\n    driver: integra\n    link: tcp://127.0.0.1:9\n', 'inventory.yaml', drivers.names));
const ctx = { operator: 'bulk-test', stateDir: '/nonexistent', timeoutMs: 2000, drivers };

async function planOf(row: Omit<ChangeRow, 'row' | 'panels' | 'action'>) {
  const rows: ChangeRow[] = [{ row: 2, panels: ['vault'], action: 'set-code', code: { source: 'generate' }, ...row }];
  const plan = await buildPlan(rows, new Map([['vault', target]]), ctx, { concurrency: 1, access, source: { file: 'changes.csv', rows: 1 } });
  return plan.panels[0];
}

describe('bulk plan: a set-code row for a duress slot', () => {
  for (const [how, row] of [
    ['by slot', { slot: 8 }],
    ['by name', { user: 'Hold-up' }],
  ] as const) {
    it(`${how}, without the duress mark: a conflict, no step`, async () => {
      const plan = await planOf(row);
      expect(plan.steps).toEqual([]);
      expect(plan.conflicts).toMatchObject([{ row: 2, code: 'E_NO_SUCH_SLOT', slot: 8, reason: expect.stringMatching(/duress/) }]);
    });

    it(`${how}, marked duress: planned`, async () => {
      const plan = await planOf({ ...row, duress: true });
      expect(plan.conflicts).toEqual([]);
      expect(plan.steps).toMatchObject([{ action: 'set-code', slot: 8, name: 'Hold-up' }]);
    });
  }

  it('an ordinary user by name, marked duress: a conflict (the mark means a duress slot), as by slot', async () => {
    for (const row of [{ slot: 2 }, { user: 'Anna' }]) {
      const plan = await planOf({ ...row, duress: true });
      expect(plan.steps, JSON.stringify(row)).toEqual([]);
      expect(plan.conflicts, JSON.stringify(row)).toMatchObject([{ code: 'E_NO_SUCH_SLOT', slot: 2 }]);
    }
  });
});
