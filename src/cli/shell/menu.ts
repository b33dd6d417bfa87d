import { PanelctlError, WrongCredentialError, toPanelctlError } from '../../core/errors.js';
import type { DriverInfo } from '../../core/contract.js';
import { describeTarget } from '../../operations/session.js';
import { askConfirm } from '../prompts.js';
import type { Target } from '../../inventory/targets.js';
import { panelActions } from './actions.js';
import { testModeActions } from './test-mode-actions.js';
import type { PanelView, ShellSession } from './session.js';
import { choose, isCancel, type MenuChoice } from './ui.js';

/**
 * One panel's screen: connect and show its users, then the action menu until the person
 * switches panel or quits. Ctrl-C inside an action returns here with nothing changed; Ctrl-C
 * at the menu itself propagates (the shell ends with 130). No connection is held between
 * actions: each operation connects, works and closes, as with the flags.
 */
export type MenuOutcome = 'switch' | 'quit';

export async function panelScreen(shell: ShellSession, target: Target): Promise<MenuOutcome> {
  const panel = await connect(shell, target);
  if (!panel) return 'switch';
  const actions = panelActions(testModeActions);
  for (;;) {
    const choices: MenuChoice<number | MenuOutcome>[] = [
      ...actions.map((action, index) => ({
        value: index,
        name: action.label,
        description: typeof action.description === 'function' ? action.description(panel) : action.description,
        disabled: action.unavailable?.(panel),
      })),
      { value: 'switch', name: 'Switch panel', description: 'find another panel' },
      { value: 'quit', name: 'Quit' },
    ];
    const choice = await choose(`What now on ${target.name}?`, choices);
    if (choice === 'switch' || choice === 'quit') return choice;
    try {
      await actions[choice].run(shell, panel);
    } catch (error) {
      if (isCancel(error)) {
        shell.out.say(shell.out.color.dim('Cancelled: nothing was changed.'));
        continue;
      }
      if (!report(shell, target, error, panel.info)) return 'switch';
    }
  }
}

/** Reads the panel's users; undefined (back to the search) when that fails or is cancelled. */
async function connect(shell: ShellSession, target: Target): Promise<PanelView | undefined> {
  if (shell.refused.has(target.name)) {
    shell.out.warn(`${target.name} refused its credential earlier in this session; panelctl will not try it again until you start a new session`);
    return undefined;
  }
  for (let offered = false; ; offered = true) {
    try {
      return await shell.openPanel(target);
    } catch (error) {
      if (isCancel(error)) {
        shell.out.say(shell.out.color.dim('Cancelled.'));
        return undefined;
      }
      // An env: credential that is not set: offer to type it, for this session only.
      const unset = /environment variable (\S+) is not set/.exec(toPanelctlError(error).message)?.[1];
      if (unset && !offered && (await offerToType(shell, target, unset))) continue;
      report(shell, target, error, await describeTarget(target, shell.cli.ctx).catch(() => undefined));
      return undefined;
    }
  }
}

async function offerToType(shell: ShellSession, target: Target, variable: string): Promise<boolean> {
  try {
    if (
      !(await askConfirm(`${variable} is not set, so the credential for ${target.name} is missing. Type it now (kept in memory for this session only)?`, {
        defaultYes: true,
      }))
    )
      return false;
  } catch (error) {
    if (isCancel(error)) return false;
    throw error;
  }
  shell.typeInsteadOf(target, variable);
  return true;
}

/**
 * The shell speaks of questions, not flags: "--name: ..." from an operation becomes "name: ...",
 * and a hint naming flags (meant for the one-shot commands) is left out.
 */
function inShellWords(failure: PanelctlError): PanelctlError {
  const message = failure.message.replace(/^--([a-z][a-z-]*): /, (_, flag: string) => `${flag.replace(/-/g, ' ')}: `).replace(/ \(use --[a-z-]+[^)]*\)/g, '');
  const hint = failure.hint && /(^|\s)--[a-z]/.test(failure.hint) ? undefined : failure.hint;
  return new PanelctlError(failure.exitCode, failure.code, message, { hint, data: failure.data });
}

/** Shows a failure the way the commands do; false when the panel must be left (its credential was refused). */
function report(shell: ShellSession, target: Target, error: unknown, info?: DriverInfo): boolean {
  const failure = toPanelctlError(error);
  shell.out.error(inShellWords(failure));
  const said = shell.noteFailure(target, failure, info);
  if (said) shell.out.warn(said);
  if (failure instanceof WrongCredentialError) return false;
  return !shell.refused.has(target.name);
}
