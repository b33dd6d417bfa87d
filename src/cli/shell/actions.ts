import type { Capability, UserSlot } from '../../core/contract.js';
import { PanelRefusedError } from '../../core/errors.js';
import { nameProblem } from '../../core/user-name.js';
import { addUser, checkSlot, codePolicyFor, removeUser, setCode } from '../../operations/users.js';
import { askConfirm, askText } from '../prompts.js';
import { proofWords } from '../proof-text.js';
import { parsePartitions } from '../target-options.js';
import { runShow } from '../actions/audit.js';
import { chooseNewCode, revealOnce } from './codes.js';
import type { PanelView, ShellSession } from './session.js';
import { busy, paused, searchFor, type MenuChoice } from './ui.js';

/**
 * What can be done to a panel from the shell's menu. Every change runs the same operation as
 * the matching flags (src/operations/users.ts: checks, one write, read-back, one audit entry).
 */
export interface ShellAction {
  label: string;
  /** Under the entry; a function when it depends on the panel (DSC keeps no names). */
  description?: string | ((panel: PanelView) => string);
  /** Why this panel cannot do it (the entry is shown greyed out), or undefined when it can. */
  unavailable?(panel: PanelView): string | undefined;
  run(shell: ShellSession, panel: PanelView): Promise<void>;
}

const needs = (capability: Capability, what: string) => (panel: PanelView) =>
  panel.panelInfo.capabilities.includes(capability) ? undefined : `(the ${panel.info.name} driver cannot ${what})`;

const userLabel = (user: UserSlot) => `${user.kind} ${user.slot}${user.name ? ` "${user.name}"` : ''}`;

/** Checked before any question, so nobody types a ticket number for a panel with no one to change. */
function requireSomeone(panel: PanelView): void {
  // A panel that cannot read users back has no list to check: the slot typed next is taken on trust.
  if (panel.info.facets.reader && !panel.users.some((u) => u.editable !== false)) {
    throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user on ${panel.target.name} that panelctl can change`);
  }
}

/** Type-ahead over the users as last read: a slot number finds that slot first, words find names. */
async function pickUser(panel: PanelView, message: string): Promise<UserSlot> {
  if (!panel.info.facets.reader) return typedSlot(panel);
  const users = panel.users;
  const choices = (term: string): MenuChoice<number>[] => {
    const t = term.trim().toLowerCase();
    const found = users
      .filter((u) => !t || String(u.slot).startsWith(t) || (u.name ?? '').toLowerCase().includes(t))
      .sort((a, b) => Number(String(b.slot) === t) - Number(String(a.slot) === t) || a.slot - b.slot);
    if (!found.length) return [{ value: -1, name: `no user matches "${term}"`, disabled: '(type a slot number or part of a name)' }];
    return found.map((u) => ({
      value: u.slot,
      name: `${String(u.slot).padStart(3)}  ${u.name ?? ''}`,
      description: [u.kind, u.type, u.partitions && `partitions ${u.partitions.join(',')}`].filter(Boolean).join(', '),
      disabled: u.editable === false ? '(not editable with the credential panelctl uses here)' : undefined,
    }));
  };
  const slot = await searchFor(message, choices);
  return users.find((u) => u.slot === slot) as UserSlot;
}

/** The lowest free slot of a 'user' range, as last read. */
function firstFreeSlot(panel: PanelView): number | undefined {
  const taken = new Set(panel.users.map((u) => u.slot));
  for (const range of panel.info.slotRanges.filter((r) => r.kind === 'user')) {
    for (let slot = range.from; slot <= range.to; slot++) if (!taken.has(slot)) return slot;
  }
  return undefined;
}

/** A panel without a reader: the slot is typed, checked against the description only. */
async function typedSlot(panel: PanelView): Promise<UserSlot> {
  const answer = await askText('Slot number (this panel cannot show its users):', { validate: (text) => slotProblem(panel, text) ?? true });
  const slot = Number(answer.trim());
  return { slot, kind: panel.info.slotRanges.find((r) => slot >= r.from && slot <= r.to)?.kind ?? 'user', hasCode: true };
}

function slotProblem(panel: PanelView, text: string): string | undefined {
  if (!/^\d+$/.test(text.trim())) return 'a slot number';
  try {
    checkSlot(panel.info, Number(text), 'slot');
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

async function askSlot(panel: PanelView, wanted?: number): Promise<number> {
  if (!panel.info.facets.reader) return (await typedSlot(panel)).slot;
  const free = wanted !== undefined && !panel.users.some((u) => u.slot === wanted) ? wanted : firstFreeSlot(panel);
  const answer = await askText(`Slot${free === undefined ? '' : ' (Enter for the first free one)'}:`, {
    default: free === undefined ? undefined : String(free),
    validate: (text) => {
      if (!/^\d+$/.test(text.trim())) return 'a slot number';
      try {
        checkSlot(panel.info, Number(text), 'slot');
      } catch (error) {
        return (error as Error).message;
      }
      const holder = panel.users.find((u) => u.slot === Number(text));
      return holder ? `slot ${holder.slot} is used by ${userLabel(holder)}` : true;
    },
  });
  return Number(answer.trim());
}

async function askPartitions(earlier?: number[]): Promise<number[] | undefined> {
  const answer = await askText("Partitions, e.g. 1,2 (Enter for the panel's default):", {
    default: earlier?.join(','),
    validate: (text) =>
      !text.trim() || parsePartitions(text).every((p) => Number.isInteger(p) && p >= 1 && p <= 32) || 'partition numbers 1..32, separated by commas',
  });
  return answer.trim() ? parsePartitions(answer) : undefined;
}

function validName(typed: string, info: PanelView['info']): true | string {
  const name = typed.trim();
  if (!name) return 'a name is needed';
  const problem = nameProblem(name, info);
  return problem ? `the name ${problem}` : true;
}

function nothingChanged(shell: ShellSession): void {
  shell.out.say(shell.out.color.dim('Not done: nothing was changed.'));
}

const addAction: ShellAction = {
  label: 'Add a user',
  description: (panel) =>
    panel.info.userNames === false ? 'a new user: a slot and a code (this panel keeps no names)' : 'a new user with a name, a slot and a code',
  unavailable: needs('users.add', 'add users'),
  async run(shell, panel) {
    const { target, info } = panel;
    const ctx = await shell.writeContext();
    // Some panels keep no names (DSC): do not ask for one they would throw away.
    // The driver's name rules here, at the name's own prompt (INTEGRA: 16 characters of Windows-1250),
    // so a name the panel cannot store is fixed while it is being typed, not after the code.
    // What was typed last time, when that add did not happen (declined, refused, cancelled), is offered again.
    const draft = shell.addDraft?.panel === target.name ? shell.addDraft : undefined;
    const name = info.userNames === false ? '' : (await askText('Name of the new user:', { default: draft?.name, validate: (v) => validName(v, info) })).trim();
    shell.addDraft = { panel: target.name, name };
    const slot = await askSlot(panel, draft?.slot);
    shell.addDraft.slot = slot;
    // Ask for partitions only where the panel has them (its users report some).
    const partitions = panel.users.some((u) => u.partitions) ? await askPartitions(draft?.partitions) : undefined;
    shell.addDraft.partitions = partitions;
    const { code, generated } = await chooseNewCode(shell, codePolicyFor(info, target));
    const summary = [
      `Add ${name ? `"${name}"` : 'a user'} in slot ${slot} on ${target.name}`,
      partitions && `partitions ${partitions.join(',')}`,
      generated ? 'with a generated code' : 'with the code you typed',
    ];
    if (!(await askConfirm(`${summary.filter(Boolean).join(', ')}?`, { defaultYes: true }))) return nothingChanged(shell);
    const {
      result: { user, proof },
    } = await busy(`adding ${name ? `"${name}"` : `slot ${slot}`} to ${target.name}`, 'write', () => addUser(target, ctx, { slot, name, code, partitions }));
    shell.addDraft = undefined;
    // Some panels keep no names (DSC): say only what the panel holds.
    const who = `slot ${user.slot}${user.name ? ` "${user.name}"` : ''}`;
    shell.out.say(`${shell.out.color.green('✓')} added ${who} on ${target.name} (${proofWords(proof, 'verified by reading it back')})`);
    if (generated) await revealOnce(shell, who, code);
    await shell.refreshAfterChange(panel);
  },
};

const setCodeAction: ShellAction = {
  label: 'Change a code',
  description: 'a new code for an existing user ("I have forgotten my code"); everything else stays',
  unavailable: needs('users.set-code', 'change codes'),
  async run(shell, panel) {
    const { target, info } = panel;
    requireSomeone(panel);
    const ctx = await shell.writeContext();
    const user = await pickUser(panel, 'Whose code? (type a slot number or a name)');
    const { code, generated } = await chooseNewCode(shell, codePolicyFor(info, target));
    if (
      !(await askConfirm(`Change the code of ${userLabel(user)} on ${target.name}${generated ? ' to a generated code' : ''}? The old code stops working.`, {
        defaultYes: true,
      }))
    ) {
      return nothingChanged(shell);
    }
    const {
      result: { user: after, proof },
    } = await busy(`changing the code of slot ${user.slot}`, 'write', () => setCode(target, ctx, { slot: user.slot, code }));
    shell.out.say(`${shell.out.color.green('✓')} changed the code of ${userLabel(after)} on ${target.name} (${proofWords(proof, 'verified')})`);
    if (generated) await revealOnce(shell, userLabel(after), code);
  },
};

const removeAction: ShellAction = {
  label: 'Remove a user',
  description: 'the user and their code are deleted from the panel',
  unavailable: needs('users.remove', 'remove users'),
  async run(shell, panel) {
    const { target } = panel;
    requireSomeone(panel);
    const ctx = await shell.writeContext();
    const picked = await pickUser(panel, 'Remove which user? (type a slot number or a name)');
    // removeUser reads the slot afresh and asks with what it found; the connection is released while you decide.
    const confirm = (user: UserSlot) =>
      paused(
        () => askConfirm(`Remove ${userLabel(user)} from ${target.name}? Their code will stop working.`),
        (yes) => (yes ? `removing slot ${user.slot} from ${target.name}` : undefined),
      );
    const { result: removed } = await busy(`reading slot ${picked.slot}`, 'write', () => removeUser(target, ctx, { slot: picked.slot, confirm }));
    if (!removed) return nothingChanged(shell);
    shell.out.say(
      `${shell.out.color.green('✓')} removed ${userLabel(removed.user)} from ${target.name} (${proofWords(removed.proof, 'verified: the slot reads back empty')})`,
    );
    await shell.refreshAfterChange(panel);
  },
};

const refreshAction: ShellAction = {
  label: 'Show the users again',
  description: 'read them from the panel afresh',
  unavailable: needs('users.list', 'list users'),
  run: (shell, panel) => shell.refreshUsers(panel),
};

const auditAction: ShellAction = {
  label: 'Show the audit log for this panel',
  description: 'the last 20 changes made to it with panelctl on this machine: who, when, ticket, outcome',
  async run(shell, panel) {
    shell.out.say(shell.out.color.bold(`Audit log for ${panel.target.name} (last 20):`));
    await runShow(shell.cli, { panel: panel.target.name, last: '20' });
  },
};

/** The menu's panel actions, in order; switching panel and quitting are added by the menu itself. */
export function panelActions(testMode: readonly ShellAction[]): ShellAction[] {
  return [addAction, setCodeAction, removeAction, ...testMode, refreshAction, auditAction];
}
