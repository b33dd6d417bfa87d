import { nameProblem } from '../core/user-name.js';
import type { ListProgress, NewUser, PanelInfo, UserSlot } from '../core/contract.js';
import { formatDuration } from '../core/duration.js';
import { ValidationError } from '../core/errors.js';
import { checkCode } from '../core/code-policy.js';
import { checkDriverOptions } from '../driver-kit/options.js';
import type { Secret } from '../core/secret.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from './context.js';
import { withPanel, describeTarget } from './session.js';
import {
  audited,
  changeCodeStep,
  proofOfWrite,
  readerMissing,
  readerOf,
  type ProvenWrite,
  checkDuressIntent,
  checkSlot,
  codePolicyFor,
  createUserStep,
  refuseUntakenFields,
  duressGuard,
  removeUserStep,
  requireCapability,
  requireUser,
} from './user-steps.js';

/**
 * The user-code operations. Each one checks everything it can before connecting, makes one
 * change (a step from user-steps.ts, which bulk apply shares), proves it with the strongest proof
 * the panel offers, and writes exactly one audit entry (with that `proof`).
 */

export { checkSlot, codePolicyFor };

/** Opens the panel for user work: only the secrets that needs are read or asked for (not a walk-test code). */
const withUsersPanel = <T>(target: Target, ctx: OperationContext, work: Parameters<typeof withPanel<T>>[2]) => withPanel(target, ctx, work, 'users');

/** The panel's own report, with the options it is driven with as its driver's schema reads them (defaults filled in). */
export async function panelInfo(target: Target, ctx: OperationContext): Promise<PanelInfo & { options?: Record<string, unknown> }> {
  const info = await withPanel(target, ctx, ({ session }) => session.info(), 'info');
  const schemas = await ctx.drivers.loadSchemas?.(target.driver);
  const options = schemas && checkDriverOptions(schemas, target.options).value;
  return options ? { ...info, options } : info;
}

export async function listUsers(target: Target, ctx: OperationContext): Promise<UserSlot[]> {
  const info = await describeTarget(target, ctx);
  // Refused before connecting: a panel that cannot read users back has nothing to list.
  if (!info.facets.reader) throw readerMissing(info, 'list its users', target.name);
  return withUsersPanel(target, ctx, async ({ session }) => {
    const reader = readerOf(session, info, 'list its users');
    const shown = ctx.activity?.(`reading the users of ${target.name}`);
    try {
      const users = await reader.listUsers(shown?.update ? readProgress(`reading the users of ${target.name}`, shown.update) : undefined);
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
  /** The caller means to write a duress (hold-up) code (required for a duress slot). */
  duress?: boolean;
  /** Runs after every check that needs no panel, just before connecting (saves a generated code first). */
  beforeSend?: () => Promise<void>;
}

/** What a change of an existing user needs the driver to do, in the words of its refusal. */
const changeNeeds = { 'users.set-code': 'change codes', 'users.remove': 'remove users' } as const;

/**
 * Refuses (exit 6) a change the driver cannot make, from its description alone: the CLI asks this before it looks a
 * user up by name on the panel, so a change that cannot work contacts nothing (the operations below check it again).
 */
export async function requireChangeSupported(target: Target, ctx: OperationContext, action: keyof typeof changeNeeds): Promise<void> {
  requireCapability(await describeTarget(target, ctx), action, changeNeeds[action]);
}

const auditBase = (target: Target) => ({ panel: target.name, driver: target.driver });

export async function addUser(target: Target, ctx: OperationContext, request: AddUserRequest): Promise<ProvenWrite> {
  const info = await describeTarget(target, ctx);
  requireCapability(info, 'users.add', 'add users');
  if (request.slot === undefined) {
    // --duress says "this code in this duress slot calls the guards, on purpose"; the next free slot is an ordinary one.
    if (request.duress) throw new ValidationError('--duress', 'goes with --slot N of a duress slot; --next picks an ordinary user slot');
    // A panel that cannot read its slots cannot find a free one: say why, and what would.
    if (info.withoutReader && !info.facets.writer?.nextSlot) throw readerMissing(info, 'pick the next free slot (give --slot)', target.name);
    requireCapability(info, 'users.next-slot', 'pick the next free slot (give --slot)');
  } else {
    checkSlot(info, request.slot, '--slot', 'add');
    checkDuressIntent(info, request.slot, request.duress);
  }
  if (info.userNames === false) {
    if (request.name.trim()) throw new ValidationError('--name', `${target.driver} panels keep no user names; leave it out`);
  } else if (!request.name.trim()) {
    throw new ValidationError('--name', 'must not be empty');
  } else {
    const problem = nameProblem(request.name, info);
    if (problem) throw new ValidationError('--name', problem);
  }
  refuseUntakenFields(info, { partitions: request.partitions, type: request.type });
  checkCode(request.code, codePolicyFor(info, target, { allowWeak: request.allowWeak }), 'new code');

  const wanted: NewUser = { slot: request.slot, name: request.name, code: request.code, partitions: request.partitions, type: request.type };
  return audited(
    ctx,
    { ...auditBase(target), action: 'users.add', slot: request.slot, name: request.name },
    async () => {
      await request.beforeSend?.();
      return withUsersPanel(target, ctx, ({ session, secrets }) => {
        checkCode(request.code, { ...codePolicyFor(info, target, { allowWeak: request.allowWeak }), ...duressGuard(target, secrets) }, 'new code');
        return createUserStep(session, info, wanted);
      });
    },
    { slotOf: (done) => done.user.slot, proofOf: proofOfWrite },
  );
}

/** `expectName`: change the code only if the slot still holds that user (a slot found by name). */
export async function setCode(
  target: Target,
  ctx: OperationContext,
  request: { slot: number; code: Secret; allowWeak?: boolean; beforeSend?: () => Promise<void>; expectName?: string; duress?: boolean },
): Promise<ProvenWrite> {
  const info = await describeTarget(target, ctx);
  requireCapability(info, 'users.set-code', changeNeeds['users.set-code']);
  checkSlot(info, request.slot, '--slot', 'set-code');
  checkDuressIntent(info, request.slot, request.duress);
  checkCode(request.code, codePolicyFor(info, target, { allowWeak: request.allowWeak }), 'new code');

  return audited(
    ctx,
    { ...auditBase(target), action: 'users.set-code', slot: request.slot, name: request.expectName },
    async () => {
      await request.beforeSend?.();
      return withUsersPanel(target, ctx, ({ session, secrets }) => {
        checkCode(request.code, { ...codePolicyFor(info, target, { allowWeak: request.allowWeak }), ...duressGuard(target, secrets) }, 'new code');
        return changeCodeStep(session, info, request.slot, request.code, request.expectName);
      });
    },
    { nameOf: (done) => done.user.name, proofOf: proofOfWrite }, // whose code changed, for the audit's NAME column
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
): Promise<ProvenWrite | undefined> {
  const info = await describeTarget(target, ctx);
  requireCapability(info, 'users.remove', changeNeeds['users.remove']);
  checkSlot(info, request.slot, '--slot', 'remove');

  let seen: UserSlot | undefined;
  if (request.confirm) {
    // A panel that cannot read users back shows the slot as its description has it.
    seen = info.facets.reader
      ? await withUsersPanel(target, ctx, ({ session }) => requireUser(readerOf(session, info, 'show who is in the slot'), request.slot))
      : { slot: request.slot, kind: info.slotRanges.find((r) => request.slot >= r.from && request.slot <= r.to)?.kind ?? 'user', hasCode: true };
    if (!(await request.confirm(seen))) return undefined;
  }
  const expectName = seen && info.facets.reader ? (seen.name ?? '') : request.expectName;
  return audited(
    ctx,
    { ...auditBase(target), action: 'users.remove', slot: request.slot, name: seen?.name ?? request.expectName },
    () => withUsersPanel(target, ctx, ({ session }) => removeUserStep(session, info, request.slot, { name: expectName })),
    { proofOf: proofOfWrite },
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
