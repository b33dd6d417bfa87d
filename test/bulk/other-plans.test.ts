import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OtherPlans } from '../../src/bulk/unsettled.js';

/**
 * OtherPlans is asked for every panel of a bulk apply whether another plan was cut off on it; it
 * lists the state dir's plans again only when the directory changed (issue 20). A plan cut off
 * after the run's first look must still keep the run off its panel.
 */

let stateDir: string;
beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-other-plans-'));
  await fs.mkdir(path.join(stateDir, 'bulk', 'aaaaaaaaaaaaaaaa'), { recursive: true });
});
afterEach(() => fs.rm(stateDir, { recursive: true, force: true }));

/** Another plan's journal with a step started on `panel` and never finished. */
async function cutOff(plan: string, panel: string): Promise<void> {
  const dir = path.join(stateDir, 'bulk', plan);
  await fs.mkdir(dir, { recursive: true });
  const started = { step: `${panel}/1`, panel, slot: 2, event: 'started', time: new Date().toISOString() };
  await fs.writeFile(path.join(dir, 'journal.jsonl'), `${JSON.stringify(started)}\n`);
}

describe('OtherPlans.cutOffOn', () => {
  it('sees a plan cut off after its first look, whether the directory had just changed or long before', async () => {
    const bulk = path.join(stateDir, 'bulk');
    for (const [age, plan] of [
      [0, 'bbbbbbbbbbbbbbbb'],
      [60_000, 'cccccccccccccccc'],
    ] as const) {
      const when = new Date(Date.now() - age);
      await fs.utimes(bulk, when, when);
      const others = new OtherPlans(stateDir, 'aaaaaaaaaaaaaaaa', new Map());
      expect(await others.cutOffOn('p1')).toBeUndefined();
      expect(await others.cutOffOn('p1')).toBeUndefined();
      await cutOff(plan, 'p1');
      expect(await others.cutOffOn('p1')).toMatch(new RegExp(`plan ${plan} was interrupted while writing slot 2 of this panel`));
      expect(await others.cutOffOn('p2')).toBeUndefined();
      await fs.rm(path.join(bulk, plan), { recursive: true });
      expect(await others.cutOffOn('p1')).toBeUndefined();
    }
  });

  it('without a bulk directory, nothing is cut off', async () => {
    await fs.rm(path.join(stateDir, 'bulk'), { recursive: true });
    expect(await new OtherPlans(stateDir, 'aaaaaaaaaaaaaaaa', new Map()).cutOffOn('p1')).toBeUndefined();
  });
});
