import { ValidationError } from '../../core/errors.js';
import type { UserSlot } from '../../core/contract.js';
import type { Secret } from '../../core/secret.js';
import { renderTable, type Column } from '../../output/table.js';
import { addUser, codePolicyFor, listUsers, removeUser, requireChangeSupported, setCode } from '../../operations/users.js';
import { describeTarget } from '../../operations/session.js';
import type { Cli, TargetFlags } from '../context.js';
import type { Target } from '../../inventory/targets.js';
import { obtainNewCode, openCodesOut, withSavedCode, type CodeFlags } from '../code-input.js';
import { parsePartitions } from '../target-options.js';
import { askConfirm } from '../prompts.js';
import { proofJson, proofWords } from '../proof-text.js';

/** 1,2,3,5,7,8,9 -> "1-3,5,7-9": a master's 32 partitions fit in a column. */
export function compactRanges(numbers: number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(','));
    i = j;
  }
  return parts.join(',');
}

export const userColumns: Column<UserSlot>[] = [
  { header: 'SLOT', value: (u) => u.slot, align: 'right' },
  { header: 'KIND', value: (u) => u.kind },
  { header: 'NAME', value: (u) => u.name ?? '' },
  { header: 'TYPE', value: (u) => u.type ?? '' },
  { header: 'PARTITIONS', value: (u) => (u.partitions ? compactRanges(u.partitions) : '') },
  { header: 'CODE', value: (u) => (u.hasCode ? 'set' : '-') },
];

/** The JSON shape of a user: stable, documented in the README. */
export function userJson(user: UserSlot): Record<string, unknown> {
  return {
    slot: user.slot,
    kind: user.kind,
    name: user.name ?? null,
    type: user.type ?? null,
    partitions: user.partitions ?? null,
    hasCode: user.hasCode,
    editable: user.editable ?? null,
  };
}

function slotFlag(value: string | undefined, options: { required: boolean }): number | undefined {
  if (value === undefined) {
    if (options.required) throw new ValidationError('--slot', 'is required');
    return undefined;
  }
  if (!/^\d+$/.test(value)) throw new ValidationError('--slot', 'must be a whole number');
  return Number(value);
}

function partitionsFlag(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const partitions = parsePartitions(value);
  if (partitions.some((p) => !Number.isInteger(p) || p < 1 || p > 32))
    throw new ValidationError('--partitions', 'must be a comma-separated list of partition numbers 1..32');
  return partitions;
}

export async function runList(cli: Cli, flags: TargetFlags): Promise<void> {
  const target = await cli.target(flags);
  const users = await listUsers(target, cli.ctx);
  cli.out.result(
    { panel: target.name, users: users.map(userJson) },
    users,
    userColumns,
    users.map((u) => ({ panel: target.name, ...userJson(u) })),
  );
}

type AddFlags = TargetFlags & CodeFlags & { slot?: string; next?: boolean; name?: string; partitions?: string; type?: string; duress?: boolean };

export async function runAdd(cli: Cli, flags: AddFlags): Promise<void> {
  if (flags.slot !== undefined && flags.next) throw new ValidationError('--slot', 'give either --slot N or --next, not both');
  if (flags.slot === undefined && !flags.next) throw new ValidationError('--slot', 'is required (or use --next for the first free slot)');
  const slot = slotFlag(flags.slot, { required: false });
  const partitions = partitionsFlag(flags.partitions);
  const target = await cli.target(flags);
  const keepsNames = (await describeTarget(target, cli.ctx)).userNames !== false;
  if (keepsNames && !flags.name) throw new ValidationError('--name', 'is required');
  const duress = slot === undefined ? flags.duress : await duressIntent(cli, target, slot, flags.duress);
  const policy = codePolicyFor(await describeTarget(target, cli.ctx), target, { allowWeak: flags.allowWeak });
  const { code, generated } = await obtainNewCode(flags, cli, policy);
  // A generated code's home is opened and checked before anything is sent (issue 13).
  const codes = generated ? await openCodesOut(flags) : undefined;
  const { user, proof } = await withSavedCode(
    codes,
    { panel: target.name, slot, name: flags.name },
    code,
    (beforeSend) =>
      addUser(target, cli.ctx, { slot, name: flags.name ?? '', code, partitions, type: flags.type, allowWeak: flags.allowWeak, beforeSend, duress }),
    (done) => ({ slot: done.user.slot, name: done.user.name }),
    (m) => cli.out.warn(m),
  );
  reportCodeWrite(
    cli,
    { target, action: 'users.add', proof, user, code, generated, codes },
    `added ${user.name ? `"${user.name}" ` : ''}in slot ${user.slot} on ${target.name} (${proofWords(proof, 'verified by reading it back')})`,
  );
}

/**
 * Whether the caller means to write a duress (hold-up) code in `slot` (issue 17 item 4): --duress
 * says so; on a terminal, the slot and its kind are shown and the person confirms; a script without
 * --duress is refused (by the operation, before connecting).
 */
async function duressIntent(cli: Cli, target: Target, slot: number, flag: boolean | undefined): Promise<boolean | undefined> {
  const info = await describeTarget(target, cli.ctx);
  const kind = info.slotRanges.find((r) => slot >= r.from && slot <= r.to)?.kind;
  if (kind !== 'duress' || flag || !cli.interactive) return flag;
  cli.out.say(
    renderTable(
      [{ slot, kind }],
      [
        { header: 'SLOT', value: (r) => r.slot, align: 'right' },
        { header: 'KIND', value: (r) => r.kind },
      ],
    ),
  );
  return askConfirm(`Slot ${slot} on ${target.name} is a DURESS slot: its code calls the guards when it is used. Write a duress code?`);
}

/** --slot N or --user NAME (exactly one), checked before the panel is contacted. */
function whoFlags(flags: { slot?: string; user?: string }): { slot?: number; user?: string } {
  if (flags.slot !== undefined && flags.user !== undefined) throw new ValidationError('--user', 'give either --slot N or --user NAME, not both');
  if (flags.user !== undefined) {
    if (!flags.user.trim()) throw new ValidationError('--user', 'must be a user name (see `panelctl users list`)');
    return { user: flags.user };
  }
  if (flags.slot === undefined) throw new ValidationError('--slot', 'is required (or --user NAME)');
  return { slot: slotFlag(flags.slot, { required: true }) };
}

/**
 * The slot of the one user with exactly this name. Refused before anything is written when the
 * driver keeps no names (DSC), when nobody has it, or when several do (listing them).
 */
async function slotOfUser(cli: Cli, target: Target, name: string): Promise<number> {
  const info = await describeTarget(target, cli.ctx);
  if (info.userNames === false) {
    throw new ValidationError(
      '--user',
      `${info.title ?? target.driver} panels keep no user names: give --slot N (see \`panelctl users list --panel ${target.name}\`)`,
    );
  }
  const users = await listUsers(target, cli.ctx);
  const exact = users.filter((u) => u.name === name);
  if (exact.length === 1) return exact[0].slot;
  const describe = (list: UserSlot[]) => list.map((u) => `slot ${u.slot} "${u.name}"`).join(', ');
  if (exact.length > 1) {
    throw new ValidationError('--user', `"${name}" is the name of ${exact.length} users on ${target.name}: ${describe(exact)}; give --slot N`, {
      data: { matches: exact.map((u) => ({ slot: u.slot, name: u.name })) },
    });
  }
  const folded = name.toLocaleLowerCase();
  const near = users.filter((u) => u.name?.toLocaleLowerCase().includes(folded));
  throw new ValidationError('--user', `no user on ${target.name} is named exactly "${name}"`, {
    hint: near.length ? `similar: ${describe(near.slice(0, 5))}` : `see \`panelctl users list --panel ${target.name}\``,
  });
}

type SetCodeFlags = TargetFlags & CodeFlags & { slot?: string; user?: string; duress?: boolean };

/**
 * The result of a write that set a code (add, set-code): one JSON/table result, one line saying what was proven, and
 * a generated code either shown once (no codes file) or named by the file that holds it.
 */
function reportCodeWrite(
  cli: Cli,
  write: {
    target: Target;
    action: 'users.add' | 'users.set-code';
    proof: Parameters<typeof proofJson>[0];
    user: UserSlot;
    code: Secret;
    generated: boolean;
    codes: { file: string } | undefined;
  },
  done: string,
): void {
  const revealed = write.generated && !write.codes;
  cli.out.result(
    {
      panel: write.target.name,
      action: write.action,
      ...proofJson(write.proof),
      user: userJson(write.user),
      ...(revealed ? { generatedCode: write.code.reveal() } : {}),
      codesFile: write.codes?.file ?? null,
    },
    undefined,
    undefined,
  );
  cli.out.say(`${cli.out.color.green('✓')} ${done}`);
  if (revealed && !cli.out.machine) cli.out.say(`generated code (shown once): ${write.code.reveal()}`);
  if (write.codes) cli.out.note(`generated code saved to ${write.codes.file}`);
}

export async function runSetCode(cli: Cli, flags: SetCodeFlags): Promise<void> {
  const who = whoFlags(flags);
  const target = await cli.target(flags);
  await requireChangeSupported(target, cli.ctx, 'users.set-code');
  const duress = who.slot !== undefined ? await duressIntent(cli, target, who.slot, flags.duress) : flags.duress;
  const policy = codePolicyFor(await describeTarget(target, cli.ctx), target, { allowWeak: flags.allowWeak });
  // A code typed at the prompt is asked for after the name is found (a wrong name must not cost
  // the typing); one from stdin, a file or the generator is checked first, before the panel is contacted.
  const typed = !flags.codeStdin && !flags.codeFile && !flags.generate;
  let slot = typed ? (who.slot ?? (await slotOfUser(cli, target, who.user as string))) : who.slot;
  const { code, generated } = await obtainNewCode(flags, cli, policy);
  slot ??= await slotOfUser(cli, target, who.user as string);
  const codes = generated ? await openCodesOut(flags) : undefined;
  const { user, proof } = await withSavedCode(
    codes,
    { panel: target.name, slot },
    code,
    (beforeSend) => setCode(target, cli.ctx, { slot, code, allowWeak: flags.allowWeak, beforeSend, expectName: who.user, duress }),
    (done) => ({ slot: done.user.slot, name: done.user.name }),
    (m) => cli.out.warn(m),
  );
  reportCodeWrite(
    cli,
    { target, action: 'users.set-code', proof, user, code, generated, codes },
    `changed the code of slot ${slot}${user.name ? ` ("${user.name}")` : ''} on ${target.name} (${proofWords(proof, 'verified')})`,
  );
}

export async function runRemove(cli: Cli, flags: TargetFlags & { slot?: string; user?: string }): Promise<void> {
  const who = whoFlags(flags);
  const target = await cli.target(flags);
  await requireChangeSupported(target, cli.ctx, 'users.remove');
  if (!cli.globals.yes && !cli.interactive) {
    throw new ValidationError('--yes', 'is required to remove a user without a terminal to confirm on');
  }
  const slot = who.slot ?? (await slotOfUser(cli, target, who.user as string));
  const confirm = cli.globals.yes
    ? undefined
    : (user: UserSlot) =>
        askConfirm(`Remove ${user.kind} ${user.slot}${user.name ? ` "${user.name}"` : ''} from ${target.name}? Their code will stop working.`);
  const removed = await removeUser(target, cli.ctx, { slot, confirm, expectName: who.user });
  if (!removed) {
    cli.out.say('not removed');
    process.exitCode = 0;
    return;
  }
  const { user, proof } = removed;
  cli.out.result({ panel: target.name, action: 'users.remove', ...proofJson(proof), user: userJson(user) }, undefined, undefined);
  cli.out.say(
    `${cli.out.color.green('✓')} removed slot ${slot}${user.name ? ` ("${user.name}")` : ''} from ${target.name} (${proofWords(proof, 'verified: the slot reads back empty')})`,
  );
}
