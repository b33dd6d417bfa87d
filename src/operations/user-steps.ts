import type { DriverInfo, NewUser, PanelSession, UserSlot } from '../core/contract.js';
import { NotSupportedError, PanelRefusedError, ValidationError, VerificationError, toPanelctlError } from '../core/errors.js';
import type { CodePolicy } from '../core/code-policy.js';
import type { Secret } from '../core/secret.js';
import { appendAudit, prepareAudit, type AuditRecord } from '../audit/log.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from './context.js';

/**
 * The user-code writes as steps on a session that is already open, so one connection can
 * carry many of them (bulk apply) or just one (users add/set-code/remove). Each step checks
 * the slot is as expected, makes one change and proves it by reading the panel back.
 */

export function codePolicyFor(driver: DriverInfo, target: Target, allowWeak = false): CodePolicy {
  const length = Number(target.options.codeLength);
  const fixed = Number.isInteger(length) && length > 0;
  return {
    ...driver.codeRules,
    ...(fixed ? { minLength: length, maxLength: length, allowedLengths: [length] } : {}),
    allowWeak,
  };
}

/**
 * For panels with `duressPlusOne: true` in the inventory: the codes a new code must not sit next
 * to. panelctl never reads codes from a panel, so these are the ones it holds: the credential it
 * logged in with and the codes it has written in this run.
 */
export function duressGuard(target: Target, known: readonly Secret[]): Pick<CodePolicy, 'duressNeighboursOf'> {
  return target.options.duressPlusOne === true ? { duressNeighboursOf: known } : {};
}

export function requireCapability(driver: DriverInfo, capability: DriverInfo['capabilities'][number], what: string): void {
  if (!driver.capabilities.includes(capability)) {
    throw new NotSupportedError(`the ${driver.name} driver cannot ${what}`);
  }
}

export function checkSlot(driver: DriverInfo, slot: number, field = '--slot'): void {
  if (!Number.isInteger(slot) || !driver.slotRanges.some((r) => slot >= r.from && slot <= r.to)) {
    const ranges = driver.slotRanges.map((r) => `${r.from}-${r.to} (${r.kind})`).join(', ');
    throw new ValidationError(field, `must be a slot this panel has: ${ranges}`);
  }
}

export function samePartitions(a: number[] | undefined, b: number[] | undefined): boolean {
  if (!a || !b) return true; // the driver does not report partitions: nothing to compare
  return [...a].sort().join(',') === [...b].sort().join(',');
}

export async function requireUser(session: PanelSession, slot: number): Promise<UserSlot> {
  const user = await session.readUser(slot);
  if (!user) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`, { data: { slot } });
  return user;
}

/** Refuses when the slot now holds someone other than the user the caller saw (or planned for). */
function requireSameUser(user: UserSlot, expectName: string | undefined, slot: number, what: string): void {
  if (expectName !== undefined && (user.name ?? '').trim() !== expectName.trim()) {
    throw new PanelRefusedError('E_CHANGED', `slot ${slot} changed ${what} (now "${user.name ?? ''}"); nothing was written`, { data: { slot } });
  }
}

/** Reads a user back after a write and insists it is what was asked for. */
async function verifyCreated(session: PanelSession, driver: DriverInfo, created: UserSlot, wanted: NewUser): Promise<UserSlot> {
  const back = await session.readUser(created.slot);
  if (!back) throw new VerificationError(`the panel accepted the new user but slot ${created.slot} reads back empty`);
  if (back.name !== undefined && back.name.trim() !== wanted.name.trim()) {
    throw new VerificationError(`slot ${created.slot} reads back with name "${back.name}", not "${wanted.name}"`);
  }
  if (wanted.partitions && !samePartitions(back.partitions, wanted.partitions)) {
    throw new VerificationError(`slot ${created.slot} reads back with partitions ${back.partitions?.join(',')}, not ${wanted.partitions.join(',')}`);
  }
  await verifyCodeLanded(session, driver, back.slot, wanted.code);
  return back;
}

export async function verifyCodeLanded(session: PanelSession, driver: DriverInfo, slot: number, code: Secret): Promise<void> {
  if (driver.capabilities.includes('users.verify-code') && session.verifyCode) {
    // verifyCode returns false when this protocol cannot prove it for this user; that is not a failure.
    const proven = await session.verifyCode(slot, code);
    if (proven === false) return;
  }
  const back = await session.readUser(slot);
  if (!back?.hasCode) throw new VerificationError(`slot ${slot} reads back without a code after the change`);
}

/** Creates a user (in a free slot when one is named), then reads it back. */
export async function createUserStep(session: PanelSession, driver: DriverInfo, wanted: NewUser): Promise<UserSlot> {
  if (wanted.slot !== undefined) {
    const existing = await session.readUser(wanted.slot);
    if (existing) {
      throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${wanted.slot} is already used${existing.name ? ` by "${existing.name}"` : ''}`, {
        hint: 'choose another slot, use --next, or change that user with `users set-code`',
        data: { slot: wanted.slot },
      });
    }
  }
  const created = await session.createUser(wanted);
  return verifyCreated(session, driver, created, wanted);
}

/** Changes one user's code; with `expectName`, only if the slot still holds that user. */
export async function changeCodeStep(session: PanelSession, driver: DriverInfo, slot: number, code: Secret, expectName?: string): Promise<UserSlot> {
  const before = await requireUser(session, slot);
  requireSameUser(before, expectName, slot, 'since the plan was made');
  await session.changeCode(slot, code);
  await verifyCodeLanded(session, driver, slot, code);
  const after = await requireUser(session, slot);
  if (before.name !== after.name) throw new VerificationError(`slot ${slot}'s name changed from "${before.name}" to "${after.name}" during a code change`);
  return after;
}

/** Removes one user; with `expectName`, only if the slot still holds that user. Returns who was removed. */
export async function removeUserStep(session: PanelSession, slot: number, expectName?: string, changedWhile = 'while you were confirming'): Promise<UserSlot> {
  const current = await requireUser(session, slot);
  requireSameUser(current, expectName, slot, changedWhile);
  await session.deleteUser(slot);
  const back = await session.readUser(slot);
  if (back) throw new VerificationError(`the panel accepted the removal but slot ${slot} still reads back as a user`);
  return current;
}

export type AuditBase = Omit<AuditRecord, 'operator' | 'ticket' | 'outcome'>;

/** Runs one write and records exactly one audit entry for it, whatever happens. */
export async function audited<T>(
  ctx: OperationContext,
  record: AuditBase,
  work: () => Promise<T>,
  slotOf?: (result: T) => number | undefined,
  nameOf?: (result: T) => string | undefined,
): Promise<T> {
  const base = { operator: ctx.operator, ticket: ctx.ticket, ...record, ...(ctx.auditDetails ? { details: { ...ctx.auditDetails, ...record.details } } : {}) };
  await prepareAudit(ctx.stateDir);
  try {
    const result = await work();
    await appendAudit(ctx.stateDir, { ...base, slot: slotOf?.(result) ?? record.slot, name: record.name ?? nameOf?.(result), outcome: 'ok' });
    return result;
  } catch (error) {
    const failure = toPanelctlError(error);
    const outcome = failure instanceof PanelRefusedError ? 'refused' : failure instanceof VerificationError ? 'unverified' : 'failed';
    await appendAudit(ctx.stateDir, { ...base, outcome, error: { code: failure.code, message: failure.message } });
    throw failure;
  }
}
