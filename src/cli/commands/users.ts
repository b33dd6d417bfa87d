import type { Command } from 'commander';
import { addCodeOptions } from '../code-input.js';
import { addTargetOptions } from '../target-options.js';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/users.js'), { interruptible: true });

export function registerUsers(program: Command): void {
  const users = withExamples(
    program.command('users').description('list, add, change and remove user codes'),
    'panelctl users list --panel demo',
    'panelctl users set-code --panel oslo-office --user "Anna Berg"',
  );

  withExamples(
    addTargetOptions(users.command('list').description('list the users that exist, with slot, name, type, partitions (never codes)')),
    'panelctl users list --panel oslo-office',
    'panelctl users list --panel oslo-office --link serial:///dev/ttyUSB1   # the same panel, on site over a cable',
    'panelctl users list --link tcp://10.0.0.5:7094 --driver integra --secret-from prompt',
    `panelctl users list --panel demo -o json | jq '.users[] | select(.kind == "user") | .name'`,
  ).action(run((m) => m.runList));

  const add = users
    .command('add')
    .description('create a user with a new code (prompted twice, --code-stdin, --code-file or --generate)')
    .option('--slot <n>', 'slot number to create')
    .option('--next', 'use the first free slot')
    .option('--name <name>', 'user name as shown on the panel')
    .option('--partitions <list>', 'partitions, e.g. 1,2')
    .option('--type <type>', 'user type (driver-specific, e.g. normal)')
    .option('--duress', 'write a duress (hold-up) code on purpose: required for a duress slot, whose code calls the guards');
  withExamples(
    addCodeOptions(addTargetOptions(add)),
    'panelctl users add --panel oslo-office --next --name "Anna Berg" --partitions 1,2',
    'panelctl users add --panel demo --next --name "New employee" --partitions 1 --generate --reveal',
  ).action(run((m) => m.runAdd));

  const setCode = users
    .command('set-code')
    .description("change a user's code; other settings stay as they are")
    .option('--slot <n>', 'slot number')
    .option('--user <name>', 'the user with exactly this name, instead of --slot (panels that keep names)')
    .option('--duress', 'write a duress (hold-up) code on purpose: required for a duress slot, whose code calls the guards');
  withExamples(
    addCodeOptions(addTargetOptions(setCode)),
    'panelctl users set-code --panel oslo-office --slot 3            # asks for the new code twice, masked',
    'panelctl users set-code --panel oslo-office --user "Anna Berg" --generate --reveal',
  ).action(run((m) => m.runSetCode));

  const remove = users
    .command('remove')
    .description('remove a user (asks first on a terminal; --yes for scripts)')
    .option('--slot <n>', 'slot number')
    .option('--user <name>', 'the user with exactly this name, instead of --slot (panels that keep names)');
  withExamples(
    addTargetOptions(remove),
    'panelctl users remove --panel oslo-office --slot 3',
    'panelctl users remove --panel oslo-office --user "Anna Berg" --yes --ticket T-1042',
  ).action(run((m) => m.runRemove));
}
