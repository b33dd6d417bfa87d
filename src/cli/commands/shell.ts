import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';
import { withExamples } from './examples.js';

/**
 * `panelctl shell` (and `panelctl` alone on a terminal): the guided mode for support staff.
 * Terminal only; without one it is a usage error, never a wait on a prompt.
 */
export function registerShell(program: Command): void {
  withExamples(
    program
      .command('shell')
      .description('guided interactive mode: find a panel, see its users, add/change/remove codes (terminal only)')
      .option('-p, --panel <name>', 'start on this panel instead of searching'),
    'panelctl shell',
    'panelctl shell --panel oslo-office --ticket T-1042',
  ).action(lazyAction(async () => (await import('../actions/shell.js')).runShell));
}
