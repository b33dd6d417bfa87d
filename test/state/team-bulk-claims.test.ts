import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPanels, liveClaims } from '../../src/bulk/claims.js';
import { planDir } from '../../src/bulk/journal.js';
import { closeSharedStores, configureSharedStore } from '../../src/state/store.js';
import { postgresMissing } from '../support/postgres.js';
import { teamDatabase } from '../support/team-store.js';
import { tempDirPerTest } from '../support/temp-dir.js';

/**
 * Which bulk apply owns which panels in team mode (src/bulk/claims.ts over src/state/postgres/bulk.ts): the claims
 * of every desk's applies are compared in the shared store, never as files under the state dir (left empty).
 * Each state dir is one machine, with its own store on the same database.
 */
const db = teamDatabase('bulkclaims');
const temp = tempDirPerTest('panelctl-team-claims-');
const PLAN = 'fedcba9876543210';
/** The plan's directory as a new machine of the desk sees it. */
function machine(name: string): string {
  const stateDir = path.join(temp.dir, name);
  configureSharedStore(stateDir, async () => db.open());
  return planDir(stateDir, PLAN);
}

afterEach(() => closeSharedStores());

describe.skipIf(postgresMissing)('bulk claims in the shared store', () => {
  it('a claim made on one machine is listed on another, refuses an overlapping apply there naming it, and release frees its panels', async () => {
    const desk1 = machine('desk1');
    const desk2 = machine('desk2');
    const release = await claimPanels(desk1, ['p1', 'p2'], { shard: '0/2', operator: 'anna', ticket: 'T-1' });
    expect(await liveClaims(desk2)).toEqual([
      expect.objectContaining({ pid: process.pid, shard: '0/2', operator: 'anna', ticket: 'T-1', panels: ['p1', 'p2'], command: 'bulk apply' }),
    ]);

    const refused = claimPanels(desk2, ['p2', 'p3'], { shard: null, operator: 'ben' });
    await expect(refused).rejects.toMatchObject({
      code: 'E_PLAN_BUSY',
      exitCode: 4,
      message: expect.stringMatching(
        /^another apply of this plan is running on 1 of the same panel\(s\) \(p2\): --shard 0\/2 \(process \d+, .*by anna, ticket T-1, since .*\); nothing was done$/,
      ),
      data: { holder: expect.objectContaining({ operator: 'anna', shard: '0/2' }) },
    });
    expect((await liveClaims(desk1)).map((c) => c.operator)).toEqual(['anna']);

    // A disjoint shard runs beside it.
    const beside = await claimPanels(desk2, ['p3'], { shard: '1/2', operator: 'ben' });
    expect((await liveClaims(desk1)).map((c) => c.operator).sort()).toEqual(['anna', 'ben']);

    await release();
    await beside();
    expect(await liveClaims(desk2)).toEqual([]);
    const after = await claimPanels(desk2, ['p1', 'p2', 'p3'], { shard: null });
    await after();
    expect(await fs.readdir(temp.dir)).toEqual([]);
  });
});
