import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';

/**
 * `panelctl shell` (and `panelctl` alone on a terminal): the guided mode for support staff.
 * Terminal only; without one it is a usage error, never a wait on a prompt.
 */
export function registerShell(program: Command): void {
  program
    .command('shell')
    .description('guided interactive mode: find a panel, see its users, add/change/remove codes (terminal only)')
    .option('-p, --panel <name>', 'start on this panel instead of searching')
    .action(lazyAction(() => import('../actions/shell.js'), 'runShell'));
}
