import { nameProblem } from '../core/user-name.js';
import type { ListProgress, NewUser, PanelInfo, UserSlot } from '../core/contract.js';
import { formatDuration } from '../core/duration.js';
import { ValidationError } from '../core/errors.js';
import { checkCode } from '../core/code-policy.js';
import type { Secret } from '../core/secret.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from './context.js';
import { withPanel, describeTarget } from './session.js';
import {
  audited,
  changeCodeStep,
  checkSlot,
  codePolicyFor,
  createUserStep,
  duressGuard,
  removeUserStep,
  requireCapability,
  requireUser,
} from './user-steps.js';

/**
 * The user-code operations. Each one checks everything it can before connecting, makes one
 * change (a step from user-steps.ts, which bulk apply shares), proves it by reading the panel
 * back, and writes exactly one audit entry.
 */

export { checkSlot, codePolicyFor };

export async function panelInfo(target: Target, ctx: OperationContext): Promise<PanelInfo> {
  return withPanel(target, ctx, ({ session }) => session.info());
}

export async function listUsers(target: Target, ctx: OperationContext): Promise<UserSlot[]> {
  return withPanel(target, ctx, async ({ session, driver }) => {
    requireCapability(driver, 'users.list', 'list users');
    const shown = ctx.activity?.(`reading the users of ${target.name}`);
    try {
      const users = await session.listUsers(shown?.update ? readProgress(`reading the users of ${target.name}`, shown.update) : undefined);
      return users.sort((a, b) => a.slot - b.slot);
    } finally {
      shown?.();
    }
  });
}

export interface AddUserRequest {
  slot?: number;
  name: string;
  code: Secret;
  partitions?: number[];
  type?: string;
  allowWeak?: boolean;
  /** Runs after every check that needs no panel, just before connecting (saves a generated code first). */
  beforeSend?: () => Promise<void>;
}

const auditBase = (target: Target) => ({ panel: target.name, driver: target.driver });

export async function addUser(target: Target, ctx: OperationContext, request: AddUserRequest): Promise<UserSlot> {
  const driver = await describeTarget(target);
  requireCapability(driver, 'users.add', 'add users');
  if (request.slot === undefined) requireCapability(driver, 'users.next-slot', 'pick the next free slot (give --slot)');
  else checkSlot(driver, request.slot);
  if (driver.userNames === false) {
    if (request.name.trim()) throw new ValidationError('--name', `${target.driver} panels keep no user names; leave it out`);
  } else if (!request.name.trim()) {
    throw new ValidationError('--name', 'must not be empty');
  } else {
    const problem = nameProblem(request.name, driver);
    if (problem) throw new ValidationError('--name', problem);
  }
  checkCode(request.code, codePolicyFor(driver, target, request.allowWeak), 'new code');

  const wanted: NewUser = { slot: request.slot, name: request.name, code: request.code, partitions: request.partitions, type: request.type };
  return audited(
    ctx,
    { ...auditBase(target), action: 'users.add', slot: request.slot, name: request.name },
    async () => {
      await request.beforeSend?.();
      return withPanel(target, ctx, ({ session, secrets }) => {
        checkCode(request.code, { ...codePolicyFor(driver, target, request.allowWeak), ...duressGuard(target, secrets) }, 'new code');
        return createUserStep(session, driver, wanted);
      });
    },
    (user) => user.slot,
  );
}

/** `expectName`: change the code only if the slot still holds that user (a slot found by name). */
export async function setCode(
  target: Target,
  ctx: OperationContext,
  request: { slot: number; code: Secret; allowWeak?: boolean; beforeSend?: () => Promise<void>; expectName?: string },
): Promise<UserSlot> {
  const driver = await describeTarget(target);
  requireCapability(driver, 'users.set-code', 'change codes');
  checkSlot(driver, request.slot);
  checkCode(request.code, codePolicyFor(driver, target, request.allowWeak), 'new code');

  return audited(
    ctx,
    { ...auditBase(target), action: 'users.set-code', slot: request.slot, name: request.expectName },
    async () => {
      await request.beforeSend?.();
      return withPanel(target, ctx, ({ session, secrets }) => {
        checkCode(request.code, { ...codePolicyFor(driver, target, request.allowWeak), ...duressGuard(target, secrets) }, 'new code');
        return changeCodeStep(session, driver, request.slot, request.code, request.expectName);
      });
    },
    undefined,
    (user) => user.name, // whose code changed, for the audit's NAME column
  );
}

/**
 * Removes a user. With `confirm`, the user is read first and the connection is released while
 * the person decides (the panel serves one client); the slot is re-read before deleting so a
 * change in between is not overwritten blindly.
 */
export async function removeUser(
  target: Target,
  ctx: OperationContext,
  request: { slot: number; confirm?: (user: UserSlot) => Promise<boolean>; expectName?: string },
): Promise<UserSlot | undefined> {
  const driver = await describeTarget(target);
  requireCapability(driver, 'users.remove', 'remove users');
  checkSlot(driver, request.slot);

  let seen: UserSlot | undefined;
  if (request.confirm) {
    seen = await withPanel(target, ctx, ({ session }) => requireUser(session, request.slot));
    if (!(await request.confirm(seen))) return undefined;
  }
  return audited(ctx, { ...auditBase(target), action: 'users.remove', slot: request.slot, name: seen?.name ?? request.expectName }, () =>
    withPanel(target, ctx, ({ session }) => removeUserStep(session, request.slot, seen ? (seen.name ?? '') : request.expectName)),
  );
}

/**
 * "reading the users of X: 120 of 256 slots, about 20s left": a long read (a Modbus RTU table at
 * 9600 baud takes half a minute) shows how far it is. The estimate waits for two seconds of data.
 */
function readProgress(label: string, show: (text: string) => void, now = () => Date.now()): ListProgress {
  const started = now();
  return (done, total) => {
    const elapsed = now() - started;
    const left = done > 0 && done < total && elapsed >= 2000 ? `, about ${formatDuration((elapsed / done) * (total - done))} left` : '';
    show(`${label}: ${done} of ${total} slots${left}`);
  };
}
