import { ExitCode, UsageError, toPanelctlError } from '../../core/errors.js';
import { demoPanelNames, demoTarget } from '../../inventory/demo.js';
import type { InventoryFile } from '../../inventory/schema.js';
import { allTargets, noSuchPanel, type Target } from '../../inventory/targets.js';
import type { Cli } from '../context.js';
import { panelScreen } from '../shell/menu.js';
import { beforeQuit, remindOnExit } from '../shell/test-mode-actions.js';
import { panelChoices } from '../shell/panels.js';
import { ShellSession } from '../shell/session.js';
import { isCancel, searchFor, setColour } from '../shell/ui.js';

/**
 * `panelctl shell`: find a panel, see its users, change them, confirm, and go on with the same
 * panel or another, without remembering flags. Quit ends with 0; Ctrl-C at the panel search or
 * at a panel's menu ends with 130.
 */
export async function runShell(cli: Cli, flags: { panel?: string }): Promise<void> {
  if (!cli.interactive) {
    throw new UsageError('panelctl shell needs a terminal to ask on, and standard input is not one', {
      code: 'E_NO_TTY',
      hint: 'scripts use the commands, e.g. `panelctl users list --panel NAME` (see panelctl --help)',
    });
  }
  if (cli.out.machine) throw new UsageError('-o json/ndjson is for scripts; the shell is for people (leave -o out)', { code: 'E_INVALID' });
  setColour(cli.out.color.level > 0);

  const inventory = await loadInventoryOrDemos(cli);
  const inventoryTargets = allTargets(inventory);
  const targets: Target[] = [...inventoryTargets, ...demoPanelNames.map(demoTarget)];
  // The demo panels are for trying panelctl out: searched only while there is no inventory
  // (issue 19), so a support call never lands on a simulator; `--panel demo` still opens one.
  const searchable = inventoryTargets.length ? inventoryTargets : targets;
  const shell = new ShellSession(cli, inventory);
  let next = flags.panel === undefined ? undefined : findTarget(targets, flags.panel, inventory);

  cli.out.notice(
    `${cli.out.color.bold('panelctl')} ${cli.out.color.dim('- find a panel, then choose what to do. Ctrl-C backs out of a question; at a menu it quits.')}`,
  );
  try {
    for (;;) {
      const target = next ?? findTarget(targets, await searchFor('Panel (type a name, customer, account or tag):', (term) => panelChoices(searchable, term)));
      next = undefined;
      if ((await panelScreen(shell, target)) === 'quit') {
        shell.testsToRemind.set(target.name, target);
        await beforeQuit(shell);
        return;
      }
    }
  } catch (error) {
    if (!isCancel(error)) throw error;
    await remindOnExit(shell);
    // Nothing is open between actions, so there is no connection left to close here.
    cli.out.notice(cli.out.color.dim('Bye.'));
    process.exitCode = ExitCode.cancelled;
  }
}

function findTarget(targets: readonly Target[], name: string, inventory: InventoryFile = { panels: {} }): Target {
  const target = targets.find((t) => t.name === name);
  if (!target) {
    const failure = noSuchPanel(name, inventory);
    throw new UsageError(failure.message, { code: 'E_NO_PANEL', hint: 'leave --panel out to search', data: failure.data });
  }
  return target;
}

/** A broken inventory should not lock support staff out of the demo panels: say what is wrong and go on. */
async function loadInventoryOrDemos(cli: Cli): Promise<InventoryFile> {
  try {
    return await cli.inventory();
  } catch (error) {
    const failure = toPanelctlError(error);
    cli.out.error(failure);
    cli.out.warn('going on with the built-in demo panels only');
    return { panels: {} };
  }
}
