import type { DriverInfo, PanelSession, Proof } from '../core/contract.js';
import { PanelRefusedError, VerificationError, WrongCredentialError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import type { PlanStep } from './plan.js';

/**
 * Settling a step that was in flight when a run died: did it land? Only the panel can say.
 */

export type Found = 'landed' | 'absent' | 'unknown';

/**
 * Asks the panel whether `slot` holds `code`. verifyCode answers true (proven there), false (this
 * protocol cannot tell for this user), or throws: a verification error (INTEGRA: no user, or
 * another user, owns the code; Modbus: the code registers hold something else) or a refused
 * code is a proof that the code is NOT in the slot, which is not a failure here but the answer.
 */
export async function proveCode(session: PanelSession, slot: number, code: Secret): Promise<Found> {
  if (!session.codeChecker) return 'unknown';
  try {
    return (await session.codeChecker.verifyCode(slot, code)) ? 'landed' : 'unknown';
  } catch (error) {
    if (error instanceof VerificationError || error instanceof WrongCredentialError) return 'absent';
    throw error;
  }
}

/**
 * Would a resume settle this step, just written and proven with `proof`, by asking the panel, if
 * its 'done' line were lost in a crash of the machine (journal.ts)? Only on a panel that reads its
 * users back (not a blind step). add and remove: the slot is read back. set-code: only when the panel's code checker proved this very code just now; a panel
 * that cannot check codes (DSC), or a user its checker cannot answer for, would leave the step to
 * a person. A drawn code must be in a codes file (--codes-out) for the resume to have it.
 */
export function settlesByAsking(step: PlanStep, session: PanelSession, proof: Proof, codeSaved: boolean): boolean {
  // Settling starts by reading the slot (apply.ts reconcile): a panel without a reader leaves it to a person.
  if (!session.reader || step.blind) return false;
  if (step.code?.source === 'generate' && !codeSaved) return false;
  if (step.action === 'set-code') return proof === 'code-check' && session.codeChecker !== undefined;
  return true;
}

/**
 * The step could not be settled: exit 7 with what a person must do for this one step. Running
 * --resume again would ask the same question and get the same answer, so it says what to check.
 * On a panel that cannot read users back (VISTA) this holds for adds and removes too.
 */
export function uncertain(panel: string, info: DriverInfo, step: PlanStep, codesFile: string | undefined): PanelRefusedError {
  const why =
    info.facets.reader === false
      ? `${info.name} panels cannot read users back`
      : info.facets.codeChecker
        ? `the panel cannot prove this user's code`
        : `${info.name} panels cannot show or check a code`;
  const slot = step.slot;
  const what = step.action === 'remove' ? `the removal of slot ${slot}` : step.action === 'add' ? `the add to slot ${slot}` : `the new code of slot ${slot}`;
  const saved = codesFile ? `the code saved for it in ${codesFile} (panel ${panel}, slot ${slot})` : 'the code from your codes file';
  const hint =
    step.action === 'remove'
      ? `check by hand: the code of slot ${slot} on ${panel} must no longer work at a keypad. If it still works, remove it: panelctl users remove --panel ${panel} --slot ${slot}`
      : `check by hand: have the user of slot ${slot} on ${panel} try ${saved}. ` +
        `If it works, nothing is left to do. If not, set a code: panelctl users ${step.action === 'add' ? 'add' : 'set-code'} --panel ${panel} --slot ${slot}`;
  return new PanelRefusedError('E_UNCERTAIN', `could not tell whether ${what} landed before the interruption (${why}); it is not written twice`, {
    hint,
    data: { slot },
  });
}
