import { describe, expect, it, vi } from 'vitest';
import type { DriverInfo, PanelSession } from '../../src/core/contract.js';
import { PanelRefusedError, VerificationError, WrongCredentialError, ProtocolError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';
import { proveCode, uncertain } from '../../src/bulk/settle.js';
import type { PlanStep } from '../../src/bulk/plan.js';

// Resume's question to the panel ("did this in-flight write land?") asked of a stand-in session, so that a
// mutation run sees it; the resume suites drive it through dist/ (issue 21).

const code = new Secret('739164');
const canVerify = { name: 'INTEGRA', facets: { codeChecker: true } } as unknown as DriverInfo;
const cannotVerify = { name: 'DSC', facets: { codeChecker: false } } as unknown as DriverInfo;
type Verify = NonNullable<PanelSession['codeChecker']>['verifyCode'];
const session = (verifyCode?: Verify) => ({ codeChecker: verifyCode ? { verifyCode } : undefined }) as unknown as PanelSession;

describe('proveCode', () => {
  it('landed when the panel proves the code in the slot, asking about that slot and code', async () => {
    const verify = vi.fn(async () => true);
    expect(await proveCode(session(verify), 7, code)).toBe('landed');
    expect(verify).toHaveBeenCalledWith(7, code);
  });

  it('unknown when the panel cannot tell for this user', async () => {
    expect(
      await proveCode(
        session(async () => false),
        7,
        code,
      ),
    ).toBe('unknown');
  });

  it('unknown when the session has no code checker', async () => {
    expect(await proveCode(session(undefined), 7, code)).toBe('unknown');
  });

  it('absent when the panel says the code is not there (a failed verification or a refused code)', async () => {
    expect(
      await proveCode(
        session(async () => Promise.reject(new VerificationError('another user owns it'))),
        7,
        code,
      ),
    ).toBe('absent');
    expect(
      await proveCode(
        session(async () => Promise.reject(new WrongCredentialError('refused'))),
        7,
        code,
      ),
    ).toBe('absent');
  });

  it('any other failure is not an answer: it is passed on', async () => {
    const lost = new ProtocolError('answer to another question');
    await expect(
      proveCode(
        session(async () => Promise.reject(lost)),
        7,
        code,
      ),
    ).rejects.toBe(lost);
  });
});

describe('uncertain', () => {
  const step = { id: 'shop/1', row: 2, action: 'set-code', slot: 12 } as PlanStep;

  it('exit 3 with what to check by hand, naming the saved code file when there is one', () => {
    const error = uncertain('shop', canVerify, step, '/home/ops/codes.csv');
    expect(error).toBeInstanceOf(PanelRefusedError);
    expect(error.code).toBe('E_UNCERTAIN');
    expect(error.message).toBe(
      "could not tell whether the new code of slot 12 landed before the interruption (the panel cannot prove this user's code); it is not written twice",
    );
    expect(error.hint).toBe(
      'check by hand: have the user of slot 12 on shop try the code saved for it in /home/ops/codes.csv (panel shop, slot 12). ' +
        'If it works, nothing is left to do. If not, set a code: panelctl users set-code --panel shop --slot 12',
    );
    expect(error.data).toEqual({ slot: 12 });
  });

  it('on a panel that cannot read users back, says so, and names what to check for an add and a remove (issue 16)', () => {
    const vista = { name: 'vista', facets: { reader: false, codeChecker: false } } as unknown as DriverInfo;
    const add = uncertain('clinic', vista, { ...step, action: 'add', slot: 7 }, undefined);
    expect(add.message).toBe(
      'could not tell whether the add to slot 7 landed before the interruption (vista panels cannot read users back); it is not written twice',
    );
    expect(add.hint).toBe(
      'check by hand: have the user of slot 7 on clinic try the code from your codes file. If it works, nothing is left to do. ' +
        'If not, set a code: panelctl users add --panel clinic --slot 7',
    );
    const remove = uncertain('clinic', vista, { ...step, action: 'remove', slot: 4 }, undefined);
    expect(remove.message).toBe(
      'could not tell whether the removal of slot 4 landed before the interruption (vista panels cannot read users back); it is not written twice',
    );
    expect(remove.hint).toBe(
      'check by hand: the code of slot 4 on clinic must no longer work at a keypad. If it still works, remove it: panelctl users remove --panel clinic --slot 4',
    );
    expect(remove.data).toEqual({ slot: 4 });
  });

  it('says when the protocol cannot check codes at all, and points to the codes file otherwise', () => {
    const error = uncertain('vault', cannotVerify, step, undefined);
    expect(error.message).toContain('(DSC panels cannot show or check a code)');
    expect(error.hint).toContain('try the code from your codes file. ');
  });
});
