import type { Command } from 'commander';
import { addTargetOptions } from '../target-options.js';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/info.js'));

export function registerInfo(program: Command): void {
  withExamples(
    addTargetOptions(program.command('info').description('show the panel model, firmware, user slots and what the driver can do')),
    'panelctl info --panel demo',
    'panelctl info --panel oslo-office -o json',
  ).action(run((m) => m.runInfo, { interruptible: true }));
  withExamples(
    program
      .command('panels')
      .description('list the panels in the inventory (the built-in demo panels too when there is no inventory, or with --demo)')
      .option('--limit <selector>', 'only panels whose tags match, e.g. site=oslo,customer=1042')
      .option('--demo', 'list the built-in demo panels too (they always work by name: --panel demo)'),
    'panelctl panels',
    'panelctl panels --limit site=oslo',
    'panelctl panels --demo',
  ).action(run((m) => m.runPanels));
  withExamples(program.command('drivers').description('list the drivers and what each can do'), 'panelctl drivers', 'panelctl drivers -o json').action(
    run((m) => m.runDrivers),
  );
}
