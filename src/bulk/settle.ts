import type { DriverInfo, PanelSession } from '../core/contract.js';
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
 * The step could not be settled: exit 7 with what a person must do for this one step. Running
 * --resume again would ask the same question and get the same answer, so it says what to check.
 */
export function uncertain(panel: string, info: DriverInfo, step: PlanStep, codesFile: string | undefined): PanelRefusedError {
  const why = info.facets.codeChecker ? `the panel cannot prove this user's code` : `${info.name} panels cannot show or check a code`;
  const saved = codesFile ? `the code saved for it in ${codesFile} (panel ${panel}, slot ${step.slot})` : 'the code from your codes file';
  return new PanelRefusedError(
    'E_UNCERTAIN',
    `could not tell whether the new code of slot ${step.slot} landed before the interruption (${why}); it is not written twice`,
    {
      hint:
        `check by hand: have the user of slot ${step.slot} on ${panel} try ${saved}. ` +
        `If it works, nothing is left to do. If not, set a code: panelctl users set-code --panel ${panel} --slot ${step.slot}`,
      data: { slot: step.slot },
    },
  );
}
