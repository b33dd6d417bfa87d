import { describe, expect, it } from 'vitest';
import { driver } from '../../../drivers/dsc/driver.js';
import { checkSlot, codePolicyFor } from '../../../src/operations/user-steps.js';
import { generateCode } from '../../../src/core/code-policy.js';
import type { Target } from '../../../src/inventory/targets.js';

/** Before connecting, a DSC panel is described by its inventory options: its model's slots and its code length. */
describe('dsc describeFor', () => {
  it('stops the user slots at maxUsers and fixes the code length', async () => {
    const info = await driver.describeFor!({ maxUsers: 48, codeLength: 6 });
    expect(info.slotRanges.at(-1)).toEqual({ from: 43, to: 48, kind: 'user' });
    expect(() => checkSlot(info, 60)).toThrow(/--slot: must be a slot this panel has: .*43-48 \(user\)/);
    expect(() => checkSlot(info, 47)).not.toThrow();
    const target = { name: 'shop', driver: 'dsc', options: { codeLength: 6 } } as unknown as Target;
    expect(generateCode(codePolicyFor(info, target)).reveal()).toMatch(/^\d{6}$/);
    expect(info.codeRules).toEqual({ minLength: 6, maxLength: 6, allowedLengths: [6] });
  });

  it('declares slot 40 rules so they are refused before connecting: never deleted, changed only with allowMaster', async () => {
    const info = await driver.describeFor!({});
    expect(() => checkSlot(info, 40, '--slot', 'remove')).toThrow(/never deleted/);
    expect(() => checkSlot(info, 40, '--slot', 'set-code')).toThrow(/only when asked explicitly/);
    expect(() => checkSlot(info, 40, '--slot', 'add')).toThrow(/only when asked explicitly/);
    expect(() => checkSlot(info, 5, '--slot', 'remove')).not.toThrow();
    const allowed = await driver.describeFor!({ allowMaster: true, maxUsers: 48 });
    expect(() => checkSlot(allowed, 40, '--slot', 'set-code')).not.toThrow();
    expect(() => checkSlot(allowed, 40, '--slot', 'remove')).toThrow(/never deleted/);
  });

  it('parses its options with the kit (parseDriverOptions): a misspelt one is exit 2 with a did-you-mean, before connecting', async () => {
    await expect(driver.describeFor!({ lcdTxt: false })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/did you mean lcdText/) });
    await expect(driver.describeFor!({ maxUsers: 120 })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/options\.maxUsers/) });
  });

  it('keeps the generic description when the options say nothing', async () => {
    expect(await driver.describeFor!({})).toEqual(driver.describe());
  });
});
