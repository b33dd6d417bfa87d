import { toPanelctlError } from '../../core/errors.js';
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
      ...actions.map((action, index) => ({ value: index, name: action.label, description: action.description, disabled: action.unavailable?.(panel) })),
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
      if (!report(shell, target, error)) return 'switch';
    }
  }
}

/** Reads the panel's users; undefined (back to the search) when that fails or is cancelled. */
async function connect(shell: ShellSession, target: Target): Promise<PanelView | undefined> {
  if (shell.refused.has(target.name)) {
    shell.out.warn(`${target.name} refused its credential earlier in this session; panelctl will not try it again until you start a new session`);
    return undefined;
  }
  try {
    return await shell.openPanel(target);
  } catch (error) {
    if (isCancel(error)) shell.out.say(shell.out.color.dim('Cancelled.'));
    else report(shell, target, error);
    return undefined;
  }
}

/** Shows a failure the way the commands do; false when the panel must be left (its credential was refused). */
function report(shell: ShellSession, target: Target, error: unknown): boolean {
  const failure = toPanelctlError(error);
  shell.out.error(failure);
  shell.noteFailure(target, failure);
  if (!shell.refused.has(target.name)) return true;
  shell.out.warn(`panelctl will not use that credential on ${target.name} again in this session (panels lock keypads after wrong codes)`);
  return false;
}
