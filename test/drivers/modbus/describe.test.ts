import { capabilitiesOf } from '../../../src/core/contract.js';
import { describe, expect, it } from 'vitest';
import { driver } from '../../../drivers/modbus/driver.js';
import { codePolicyFor } from '../../../src/operations/user-steps.js';
import { generateCode } from '../../../src/core/code-policy.js';
import { describeTarget } from '../../../src/operations/session.js';
import { drivers } from '../../../drivers/index.js';
import type { Target } from '../../../src/inventory/targets.js';
import { profileVariant } from './support.js';

/** Before connecting, a Modbus panel is described by its profile, so checks and generated codes fit it. */
describe('modbus describeFor', () => {
  it("takes slots, code lengths and test mode from the panel's profile", async () => {
    const { file } = await profileVariant('four-digit', (p) => {
      p.users.slots = 50;
      p.users.code.minLength = 4;
      p.users.code.maxLength = 4;
      delete p.testMode;
    });
    const info = await driver.describeFor!({ profile: file });
    expect(info.slotRanges).toEqual([{ from: 1, to: 50, kind: 'user' }]);
    expect(info.codeRules).toMatchObject({ minLength: 4, maxLength: 4 });
    expect(info.facets.testMode).toBe(false);
    expect(capabilitiesOf(info.facets)).not.toContain('test-mode');

    const target = { name: 'door', driver: 'modbus', options: { profile: file }, tags: {}, secretRefs: {}, demo: false } as unknown as Target;
    const policy = codePolicyFor(await describeTarget(target, { drivers }), target);
    for (let i = 0; i < 20; i++) expect(generateCode(policy).reveal()).toMatch(/^\d{4}$/);
  });

  it('a missing profile is refused before anything connects', async () => {
    await expect(driver.describeFor!({})).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/options\.profile/) });
  });
});
