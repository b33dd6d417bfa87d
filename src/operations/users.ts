import type { DriverInfo, NewUser, PanelInfo, PanelSession, UserSlot } from '../core/contract.js';
import { NotSupportedError, PanelRefusedError, ValidationError, VerificationError, toPanelctlError } from '../core/errors.js';
import { checkCode, type CodePolicy } from '../core/code-policy.js';
import type { Secret } from '../core/secret.js';
import { appendAudit, type AuditRecord } from '../audit/log.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from './context.js';
import { withPanel, describeTarget, type OpenPanel } from './session.js';

/**
 * The user-code operations. Each one checks everything it can before connecting, makes one
 * change, proves it by reading the panel back, and writes exactly one audit entry.
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

function requireCapability(driver: DriverInfo, capability: DriverInfo['capabilities'][number], what: string): void {
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

async function audited<T>(target: Target, ctx: OperationContext, record: Omit<AuditRecord, 'operator' | 'ticket' | 'panel' | 'driver' | 'outcome'>, work: () => Promise<T>, slotOf?: (result: T) => number | undefined): Promise<T> {
  const base = { operator: ctx.operator, ticket: ctx.ticket, panel: target.name, driver: target.driver, ...record };
  try {
    const result = await work();
    await appendAudit(ctx.stateDir, { ...base, slot: slotOf?.(result) ?? record.slot, outcome: 'ok' });
    return result;
  } catch (error) {
    const failure = toPanelctlError(error);
    const outcome = failure instanceof PanelRefusedError ? 'refused' : failure instanceof VerificationError ? 'unverified' : 'failed';
    await appendAudit(ctx.stateDir, { ...base, outcome, error: { code: failure.code, message: failure.message } });
    throw failure;
  }
}

export async function panelInfo(target: Target, ctx: OperationContext): Promise<PanelInfo> {
  return withPanel(target, ctx, ({ session }) => session.info());
}

export async function listUsers(target: Target, ctx: OperationContext): Promise<UserSlot[]> {
  return withPanel(target, ctx, async ({ session, driver }) => {
    requireCapability(driver, 'users.list', 'list users');
    const users = await session.listUsers();
    return users.sort((a, b) => a.slot - b.slot);
  });
}

function samePartitions(a: number[] | undefined, b: number[] | undefined): boolean {
  if (!a || !b) return true; // the driver does not report partitions: nothing to compare
  return [...a].sort().join(',') === [...b].sort().join(',');
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

async function verifyCodeLanded(session: PanelSession, driver: DriverInfo, slot: number, code: Secret): Promise<void> {
  if (driver.capabilities.includes('users.verify-code') && session.verifyCode) {
    // verifyCode returns false when this protocol cannot prove it for this user; that is not a failure.
    const proven = await session.verifyCode(slot, code);
    if (proven === false) return;
  }
  const back = await session.readUser(slot);
  if (!back?.hasCode) throw new VerificationError(`slot ${slot} reads back without a code after the change`);
}

export interface AddUserRequest {
  slot?: number;
  name: string;
  code: Secret;
  partitions?: number[];
  type?: string;
  allowWeak?: boolean;
}

export async function addUser(target: Target, ctx: OperationContext, request: AddUserRequest): Promise<UserSlot> {
  const driver = await describeTarget(target);
  requireCapability(driver, 'users.add', 'add users');
  if (request.slot === undefined) requireCapability(driver, 'users.next-slot', 'pick the next free slot (give --slot)');
  else checkSlot(driver, request.slot);
  if (!request.name.trim()) throw new ValidationError('--name', 'must not be empty');
  checkCode(request.code, codePolicyFor(driver, target, request.allowWeak), 'new code');

  return audited(
    target,
    ctx,
    { action: 'users.add', slot: request.slot, name: request.name },
    () =>
      withPanel(target, ctx, async ({ session }) => {
        if (request.slot !== undefined) {
          const existing = await session.readUser(request.slot);
          if (existing) {
            throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${request.slot} is already used${existing.name ? ` by "${existing.name}"` : ''}`, {
              hint: 'choose another slot, use --next, or change that user with `users set-code`',
              data: { slot: request.slot },
            });
          }
        }
        const wanted: NewUser = { slot: request.slot, name: request.name, code: request.code, partitions: request.partitions, type: request.type };
        const created = await session.createUser(wanted);
        return verifyCreated(session, driver, created, wanted);
      }),
    (user) => user.slot,
  );
}

export async function setCode(target: Target, ctx: OperationContext, request: { slot: number; code: Secret; allowWeak?: boolean }): Promise<UserSlot> {
  const driver = await describeTarget(target);
  requireCapability(driver, 'users.set-code', 'change codes');
  checkSlot(driver, request.slot);
  checkCode(request.code, codePolicyFor(driver, target, request.allowWeak), 'new code');

  return audited(target, ctx, { action: 'users.set-code', slot: request.slot }, () =>
    withPanel(target, ctx, async ({ session }) => {
      const before = await requireUser(session, request.slot);
      await session.changeCode(request.slot, request.code);
      await verifyCodeLanded(session, driver, request.slot, request.code);
      const after = await requireUser(session, request.slot);
      if (before.name !== after.name) throw new VerificationError(`slot ${request.slot}'s name changed from "${before.name}" to "${after.name}" during a code change`);
      return after;
    }),
  );
}

async function requireUser(session: PanelSession, slot: number): Promise<UserSlot> {
  const user = await session.readUser(slot);
  if (!user) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`, { data: { slot } });
  return user;
}

/**
 * Removes a user. With `confirm`, the user is read first and the connection is released while
 * the person decides (the panel serves one client); the slot is re-read before deleting so a
 * change in between is not overwritten blindly.
 */
export async function removeUser(target: Target, ctx: OperationContext, request: { slot: number; confirm?: (user: UserSlot) => Promise<boolean> }): Promise<UserSlot | undefined> {
  const driver = await describeTarget(target);
  requireCapability(driver, 'users.remove', 'remove users');
  checkSlot(driver, request.slot);

  let seen: UserSlot | undefined;
  if (request.confirm) {
    seen = await withPanel(target, ctx, ({ session }) => requireUser(session, request.slot));
    if (!(await request.confirm(seen))) return undefined;
  }
  return audited(target, ctx, { action: 'users.remove', slot: request.slot, name: seen?.name }, () =>
    withPanel(target, ctx, async ({ session }: OpenPanel) => {
      const current = await requireUser(session, request.slot);
      if (seen && current.name !== seen.name) {
        throw new PanelRefusedError('E_CHANGED', `slot ${request.slot} changed while you were confirming (now "${current.name}"); nothing was removed`);
      }
      await session.deleteUser(request.slot);
      const back = await session.readUser(request.slot);
      if (back) throw new VerificationError(`the panel accepted the removal but slot ${request.slot} still reads back as a user`);
      return current;
    }),
  );
}
