import { afterEach, expect, it } from 'vitest';
import path from 'node:path';
import { applyPlan } from '../../src/bulk/apply.js';
import { GeneratedCodes } from '../../src/bulk/codes.js';
import { PanelRefusedError } from '../../src/core/errors.js';
import type { Secret } from '../../src/core/secret.js';
import type { PanelAccess } from '../../src/bulk/access.js';
import { readCodesCsv } from '../support/codes-csv.js';
import { planOnFleet } from './support/apply-run.js';
import { fake, startFleet, type Fleet } from './support/fleet.js';

/**
 * A drawn code the panel refuses (another user holds it: about once in 10,000 panels of 100 users) fails its step and
 * is dropped from --codes-out. The panel refused the write itself, so nothing of it landed: --resume must write the
 * step afresh with a new code, not call it uncertain and send a person to a code that is no longer in the file.
 */

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

it('a drawn code the panel refused is drawn again on --resume, and the step is written', async () => {
  fleet = await startFleet(1, () => ({ users: [{ slot: 2, name: 'Bob', code: '62100' }] }));
  const panel = [...fleet.panels.values()][0].panel;
  const run = await planOnFleet(fleet, {
    changes: 'panel,action,slot,code\n*,set-code,2,generate\n',
    codes: 'x\n1\n',
    planConcurrency: 1,
    applyConcurrency: 1,
  });
  let refuse = true;
  const refused: string[] = [];
  const access: PanelAccess = {
    describe: fake.access.describe,
    async open(target, ctx) {
      const open = await fake.access.open(target, ctx);
      const change = open.session.changeCode;
      open.session.changeCode = async (slot: number, code: Secret) => {
        if (!refuse) return change(slot, code);
        refused.push(code.reveal());
        throw new PanelRefusedError('E_CODE_REJECTED', 'the panel rejected the code (another user may have it)');
      };
      return open;
    },
  };
  const out = path.join(fleet.dir, 'out.csv');
  const options = { concurrency: 1, retries: 0, backoffMs: 1, maxBackoffMs: 1, access };

  const first = await applyPlan(run.plan, fleet.targetMap, fleet.ctx, {
    ...options,
    resume: false,
    codes: { generated: await GeneratedCodes.open(out, false) },
  });
  expect(first.outcomes.map((o) => [o.status, o.code])).toEqual([['failed', 'E_CODE_REJECTED']]);
  expect(panel.stats.writeLog).toEqual([]);

  refuse = false;
  const second = await applyPlan(run.plan, fleet.targetMap, fleet.ctx, {
    ...options,
    resume: true,
    codes: { generated: await GeneratedCodes.open(out, true) },
  });
  expect(second.outcomes.map((o) => [o.status, o.how ?? o.code])).toEqual([['done', 'written']]);
  expect(panel.stats.writeLog).toEqual(['change:2']);
  const written = panel.state.users.get(2).code;
  expect(refused).toHaveLength(1);
  expect(written).not.toBe(refused[0]);
  expect((await readCodesCsv(out)).map(([, slot, , code, status]) => [slot, code, status])).toEqual([['2', written, 'applied']]);
});
