import type { Command } from 'commander';
import { addTargetOptions } from '../target-options.js';
import { lazyAction } from '../lazy.js';

const run = (name: string, interruptible = false) => lazyAction(() => import('../actions/info.js'), name, { interruptible });

export function registerInfo(program: Command): void {
  addTargetOptions(program.command('info').description('show the panel model, firmware, user slots and what the driver can do')).action(run('runInfo', true),
  );
  program
    .command('panels')
    .description('list the panels in the inventory (and the built-in demo panels)')
    .option('--limit <selector>', 'only panels whose tags match, e.g. site=oslo,customer=1042')
    .action(run('runPanels'));
  program
    .command('drivers')
    .description('list the drivers and what each can do')
    .action(run('runDrivers'));
}
