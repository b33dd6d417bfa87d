import type { Command } from 'commander';
import { addCodeOptions } from '../code-input.js';
import { addTargetOptions } from '../target-options.js';
import { lazyAction } from '../lazy.js';

const run = (name: string) => lazyAction(() => import('../actions/users.js'), name, { interruptible: true });

export function registerUsers(program: Command): void {
  const users = program.command('users').description('list, add, change and remove user codes');

  addTargetOptions(users.command('list').description('list the users that exist, with slot, name, type, partitions (never codes)')).action(run('runList'),
  );

  addCodeOptions(
    addTargetOptions(
      users
        .command('add')
        .description('create a user with a new code (prompted twice, --code-stdin, --code-file or --generate)')
        .option('--slot <n>', 'slot number to create')
        .option('--next', 'use the first free slot')
        .option('--name <name>', 'user name as shown on the panel')
        .option('--partitions <list>', 'partitions, e.g. 1,2')
        .option('--type <type>', 'user type (driver-specific, e.g. normal)'),
    ),
  ).action(run('runAdd'));

  addCodeOptions(addTargetOptions(users.command('set-code').description("change a user's code; other settings stay as they are").option('--slot <n>', 'slot number'))).action(
    run('runSetCode'),
  );

  addTargetOptions(users.command('remove').description('remove a user (asks first on a terminal; --yes for scripts)').option('--slot <n>', 'slot number')).action(
    run('runRemove'),
  );
}
