import {
  capabilitiesOf,
  type Capability,
  type DriverInfo,
  type NewUser,
  type PanelSession,
  type Proof,
  type SlotAction,
  type SlotKind,
  type UserReader,
  type UserSlot,
  type UserWriter,
} from '../core/contract.js';
import { NotSupportedError, PanelRefusedError, ValidationError, VerificationError, toPanelctlError } from '../core/errors.js';
import type { CodePolicy } from '../core/code-policy.js';
import type { Secret } from '../core/secret.js';
import { appendAudit, prepareAudit, type AuditRecord } from '../audit/log.js';
import type { Target } from '../inventory/targets.js';
import type { OperationContext } from './context.js';

/**
 * The user-code writes as steps on a session that is already open, so one connection can
 * carry many of them (bulk apply) or just one (users add/set-code/remove). Each step checks
 * the slot is as expected (where the panel can be read), makes one change and proves it with the
 * strongest proof the session offers (Proof in src/core/contract.ts).
 */

/** The code rules for one panel; `allowWeak` lets a weak code through (--allow-weak). */
export function codePolicyFor(info: DriverInfo, target: Target, options: { allowWeak?: boolean } = {}): CodePolicy {
  const length = Number(target.options.codeLength);
  const fixed = Number.isInteger(length) && length > 0;
  const allowWeak = options.allowWeak ?? false;
  return {
    ...info.codeRules,
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

export function requireCapability(info: DriverInfo, capability: Capability, what: string): void {
  if (!capabilitiesOf(info.facets).includes(capability)) {
    throw new NotSupportedError(`the ${info.name} driver cannot ${what}`);
  }
}

/** The slot exists on this panel and, for `action`, no local rule of the driver refuses it (both before connecting). */
export function checkSlot(info: DriverInfo, slot: number, field = '--slot', action?: SlotAction): void {
  const range = Number.isInteger(slot) ? info.slotRanges.find((r) => slot >= r.from && slot <= r.to) : undefined;
  if (!range) {
    const ranges = info.slotRanges.map((r) => `${r.from}-${r.to} (${r.kind})`).join(', ');
    throw new ValidationError(field, `must be a slot this panel has: ${ranges}`);
  }
  const rule = action && range.refuse?.[action];
  if (rule) throw new ValidationError(field, rule.reason, { hint: rule.hint });
}

/**
 * A duress (hold-up) code calls the guards when it is used: writing one needs the caller's
 * explicit intent (issue 17 item 4), and claiming that intent for an ordinary slot is a mistake too.
 */
export function checkDuressIntent(info: DriverInfo, slot: number, duress: boolean | undefined): void {
  const isDuress = slotKindOf(info, slot) === 'duress';
  if (isDuress && !duress) {
    throw new ValidationError(
      '--slot',
      `slot ${slot} is a duress (hold-up) slot: a code there calls the guards when it is used; give --duress to write one on purpose`,
    );
  }
  if (!isDuress && duress) throw new ValidationError('--duress', `slot ${slot} is a ${slotKindOf(info, slot)} slot, not a duress slot`);
}

export function samePartitions(a: number[] | undefined, b: number[] | undefined): boolean {
  if (!a || !b) return true; // the driver does not report partitions: nothing to compare
  return [...a].sort().join(',') === [...b].sort().join(',');
}

/** A write the panel acknowledged, and the strongest proof that it landed. */
export interface ProvenWrite {
  user: UserSlot;
  proof: Proof;
}

/** The session's writer; a session without one is refused before anything is sent. */
export function writerOf(session: PanelSession, info: DriverInfo): UserWriter {
  if (!session.writer) throw new NotSupportedError(`the ${info.name} driver cannot change users`);
  return session.writer;
}

/** Exit 6 for what needs a reader, naming what is missing, what still works, and where panelctl's own changes are. */
export function readerMissing(info: DriverInfo, what: string, panel = 'NAME'): NotSupportedError {
  const works = info.facets.writer
    ? `users add${info.facets.writer.nextSlot ? ' (--slot or --next)' : ' --slot'}, users set-code --slot and users remove --slot still work; the panel acknowledges each write but it cannot be read back. \`panelctl audit show --panel ${panel}\` lists what panelctl itself changed on it`
    : 'nothing that changes users works on it either';
  const why = info.withoutReader;
  return new NotSupportedError(`the ${info.name} driver cannot read users back${why ? ` on this panel (${why.why})` : ''}, so panelctl cannot ${what}`, {
    hint: why ? `${why.instead}. ${works}` : works,
  });
}

/** The session's reader, for what cannot be done without one (listing, finding a user by name, a plan). */
export function readerOf(session: PanelSession, info: DriverInfo, what: string): UserReader {
  if (!session.reader) throw readerMissing(info, what);
  return session.reader;
}

export async function requireUser(reader: UserReader, slot: number): Promise<UserSlot> {
  const user = await reader.readUser(slot);
  if (!user) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`, { data: { slot } });
  return user;
}

/** Refuses when the slot now holds someone other than the user the caller saw (or planned for). */
function requireSameUser(user: UserSlot, expectName: string | undefined, slot: number, what: string): void {
  if (expectName !== undefined && (user.name ?? '').trim() !== expectName.trim()) {
    throw new PanelRefusedError('E_CHANGED', `slot ${slot} changed ${what} (now "${user.name ?? ''}"); nothing was written`, { data: { slot } });
  }
}

/** What a slot is, from the description alone (for a panel that cannot read it back). */
function slotKindOf(info: DriverInfo, slot: number): SlotKind {
  return info.slotRanges.find((r) => slot >= r.from && slot <= r.to)?.kind ?? 'user';
}

/** Reads a user back after a write and insists it is what was asked for. */
async function checkCreated(reader: UserReader, created: UserSlot, wanted: NewUser): Promise<UserSlot> {
  const back = await reader.readUser(created.slot);
  if (!back) throw new VerificationError(`the panel accepted the new user but slot ${created.slot} reads back empty`);
  if (back.name !== undefined && back.name.trim() !== wanted.name.trim()) {
    throw new VerificationError(`slot ${created.slot} reads back with name "${back.name}", not "${wanted.name}"`);
  }
  if (wanted.partitions && !samePartitions(back.partitions, wanted.partitions)) {
    throw new VerificationError(`slot ${created.slot} reads back with partitions ${back.partitions?.join(',')}, not ${wanted.partitions.join(',')}`);
  }
  return back;
}

/**
 * Proves a code landed with the strongest proof the session offers: the panel checks the code
 * (code-check), else the slot reads back with a code (read-back), else the panel's
 * acknowledgement is all there is (panel-ack).
 */
export async function proveCodeLanded(session: PanelSession, slot: number, code: Secret): Promise<Proof> {
  // verifyCode returns false when this protocol cannot prove it for this user; that is not a failure.
  if (session.codeChecker && (await session.codeChecker.verifyCode(slot, code))) return 'code-check';
  if (!session.reader) return 'panel-ack';
  const back = await session.reader.readUser(slot);
  if (!back?.hasCode) throw new VerificationError(`slot ${slot} reads back without a code after the change`);
  return 'read-back';
}

/**
 * `beforeWrite` (bulk: the journal's "started" line reaching the disk) is awaited just before the
 * write is sent, after the questions that come first: the two run at the same time.
 */
export type BeforeWrite = () => Promise<void>;

/**
 * What is wrong with an add's partitions or type on this driver, from its description alone: a field it cannot set
 * (DriverInfo.addRefuses), or a value outside what it takes (DriverInfo.addAccepts). Undefined when both are fine.
 */
export function addFieldProblem(info: DriverInfo, wanted: Pick<NewUser, 'partitions' | 'type'>): { field: 'partitions' | 'type'; rule: string } | undefined {
  for (const field of ['partitions', 'type'] as const) {
    const why = info.addRefuses?.[field];
    if (wanted[field] !== undefined && why) return { field, rule: why };
  }
  const { types, partitions, where = `on ${info.name} panels` } = info.addAccepts ?? {};
  if (wanted.type !== undefined && types && !types.includes(wanted.type)) {
    return { field: 'type', rule: `must be one of ${typeList(types)} ${where}` };
  }
  if (partitions !== undefined && wanted.partitions?.some((p) => p > partitions)) {
    return { field: 'partitions', rule: `must be partitions 1..${partitions} ${where}` };
  }
  return undefined;
}

/** Type names, with numbered aliases (INTEGRA's 0..10) folded into one range at the end. */
function typeList(types: readonly string[]): string {
  const names = types.filter((t) => !/^\d+$/.test(t));
  const numbers = types.filter((t) => /^\d+$/.test(t)).map(Number);
  return numbers.length ? `${names.join(', ')} (or the number ${Math.min(...numbers)}..${Math.max(...numbers)})` : names.join(', ');
}

/**
 * `users add` fields the driver cannot set or values it does not take (addFieldProblem): exit 2 naming the flag and
 * the rule, before contact, rather than a user created without them or a refusal after connecting. Bulk plans make
 * the same rows conflicts (src/bulk/plan.ts).
 */
export function refuseUntakenFields(info: DriverInfo, wanted: Pick<NewUser, 'partitions' | 'type'>): void {
  const problem = addFieldProblem(info, wanted);
  if (problem) throw new ValidationError(`--${problem.field}`, problem.rule);
}

/** Creates a user (in a free slot when one is named), then proves it. */
export async function createUserStep(session: PanelSession, info: DriverInfo, wanted: NewUser, beforeWrite?: BeforeWrite): Promise<ProvenWrite> {
  const writer = writerOf(session, info);
  if (wanted.slot === undefined && !info.facets.writer?.nextSlot) {
    throw new NotSupportedError(`the ${info.name} driver cannot pick the next free slot: give --slot`);
  }
  if (wanted.slot !== undefined && session.reader) {
    const existing = await session.reader.readUser(wanted.slot);
    if (existing) {
      throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${wanted.slot} is already used${existing.name ? ` by "${existing.name}"` : ''}`, {
        hint: 'choose another slot, use --next, or change that user with `users set-code`',
        data: { slot: wanted.slot },
      });
    }
  }
  await beforeWrite?.();
  const created = await writer.createUser(wanted);
  const user = session.reader ? await checkCreated(session.reader, created, wanted) : created;
  return { user, proof: await proveCodeLanded(session, user.slot, wanted.code) };
}

/** Changes one user's code; with `expectName`, only if the slot still holds that user. */
export async function changeCodeStep(
  session: PanelSession,
  info: DriverInfo,
  slot: number,
  code: Secret,
  expectName?: string,
  beforeWrite?: BeforeWrite,
): Promise<ProvenWrite> {
  const writer = writerOf(session, info);
  const reader = session.reader ?? (expectName !== undefined ? readerOf(session, info, 'check whose slot it is') : undefined);
  const before = reader ? await requireUser(reader, slot) : undefined;
  if (before) requireSameUser(before, expectName, slot, 'since the plan was made');
  await beforeWrite?.();
  await writer.changeCode(slot, code);
  const proof = await proveCodeLanded(session, slot, code);
  if (!reader || !before) return { user: { slot, kind: slotKindOf(info, slot), hasCode: true }, proof };
  const after = await requireUser(reader, slot);
  if (before.name !== after.name) throw new VerificationError(`slot ${slot}'s name changed from "${before.name}" to "${after.name}" during a code change`);
  return { user: after, proof };
}

/** Removes one user; with `expectName`, only if the slot still holds that user. Returns who was removed. */
export async function removeUserStep(
  session: PanelSession,
  info: DriverInfo,
  slot: number,
  expect: { name?: string; changedWhile?: string } = {},
  beforeWrite?: BeforeWrite,
): Promise<ProvenWrite> {
  const writer = writerOf(session, info);
  const reader = session.reader ?? (expect.name !== undefined ? readerOf(session, info, 'check whose slot it is') : undefined);
  if (!reader) {
    await beforeWrite?.();
    await writer.deleteUser(slot);
    return { user: { slot, kind: slotKindOf(info, slot), hasCode: false }, proof: 'panel-ack' };
  }
  const current = await requireUser(reader, slot);
  requireSameUser(current, expect.name, slot, expect.changedWhile ?? 'while you were confirming');
  await beforeWrite?.();
  await writer.deleteUser(slot);
  const back = await reader.readUser(slot);
  if (back) throw new VerificationError(`the panel accepted the removal but slot ${slot} still reads back as a user`);
  return { user: current, proof: 'read-back' };
}

export type AuditBase = Omit<AuditRecord, 'operator' | 'ticket' | 'outcome'>;

/** What `audited` reads from a write's result for the audit entry. */
export interface AuditedResult<T> {
  slotOf?: (result: T) => number | undefined;
  nameOf?: (result: T) => string | undefined;
  /** How the write was proven: recorded as `proof` in the entry. */
  proofOf?: (result: T) => Proof | undefined;
}

/** Runs one write and records exactly one audit entry for it, whatever happens. */
export async function audited<T>(ctx: OperationContext, record: AuditBase, work: () => Promise<T>, read: AuditedResult<T> = {}): Promise<T> {
  const base = { operator: ctx.operator, ticket: ctx.ticket, ...record, ...(ctx.auditDetails ? { details: { ...ctx.auditDetails, ...record.details } } : {}) };
  await prepareAudit(ctx.stateDir);
  try {
    const result = await work();
    const proof = read.proofOf?.(result) ?? record.proof;
    await appendAudit(ctx.stateDir, {
      ...base,
      slot: read.slotOf?.(result) ?? record.slot,
      name: record.name ?? read.nameOf?.(result),
      ...(proof ? { proof } : {}),
      outcome: 'ok',
    });
    return result;
  } catch (error) {
    const failure = toPanelctlError(error);
    const outcome = failure instanceof PanelRefusedError ? 'refused' : failure instanceof VerificationError ? 'unverified' : 'failed';
    await appendAudit(ctx.stateDir, { ...base, outcome, error: { code: failure.code, message: failure.message } });
    throw failure;
  }
}

/** The proof of a step's result, for `audited`. */
export const proofOfWrite = (result: ProvenWrite): Proof => result.proof;
