import type { Command } from 'commander';
import { addTargetOptions } from '../target-options.js';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/test-mode.js'), { interruptible: true });

export function registerTestMode(program: Command): void {
  const testMode = withExamples(
    program.command('test-mode').description('put a panel on test (monitoring station first, then the panel) and always take it off again'),
    'panelctl test-mode start --panel oslo-office --for 45m --reason "annual service"',
    'panelctl test-mode status',
    'panelctl test-mode stop --panel oslo-office',
  );

  addTargetOptions(
    testMode
      .command('start')
      .description('tell the station the account is on test, then put the panel into its test mode; records a lease')
      .requiredOption('--for <duration>', 'how long the test window lasts, e.g. 45m, 2h')
      .option('--reason <text>', 'why (sent to the station, recorded in the lease and audit)')
      .option('--wait', 'stay with a countdown and end the test on expiry, Ctrl-C, SIGTERM or a lost panel')
      .option('--station-confirmed', 'you have phoned the station yourself (manual stations, without a terminal)')
      .option('--ignore-clock-skew', "start even when this machine's clock is more than 5 minutes off the station's")
      .addHelpText(
        'after',
        `
Examples:
  panelctl test-mode start --panel oslo-office --for 45m --reason "annual service" --ticket T-1042
  panelctl test-mode start --panel oslo-office --for 1h30m --wait     # ends the test on expiry or Ctrl-C`,
      ),
    { inventoryOnly: true },
  ).action(run((m) => m.runStart));

  addTargetOptions(
    testMode
      .command('stop')
      .description("end the panel's test mode, then the station's; safe to run again")
      .option('--station-confirmed', 'you have phoned the station yourself (manual stations)')
      .addHelpText(
        'after',
        `
Examples:
  panelctl test-mode stop --panel oslo-office`,
      ),
    { inventoryOnly: true },
  ).action(run((m) => m.runStop));

  testMode
    .command('status')
    .description('test leases with time left; overdue ones in red; --check asks the panels themselves')
    .option('-p, --panel <name>', 'only this panel')
    .option('--all', 'every lease (the default without --panel)')
    .option('--check', "connect and compare each panel's own test state with its lease")
    .addHelpText(
      'after',
      `
Examples:
  panelctl test-mode status
  panelctl test-mode status --check
  panelctl --detailed-exitcode test-mode status -o json    # exit 8 when a lease is overdue or in conflict`,
    )
    .action(run((m) => m.runStatus));

  testMode
    .command('sweep')
    .description('end every expired lease (for cron or a systemd timer); safe to run concurrently')
    .option('--station-confirmed', 'manual stations: you have phoned the station (without it, a reminder is printed, the lease stays and sweep exits 7)')
    .option('--watch', 'keep sweeping, as the desk\'s one sweeper: instances elect a leader, the others stand by (README "Team setup")')
    .option('--interval <duration>', 'with --watch: how often to look for expired leases (default 2s)')
    .addHelpText(
      'after',
      `
Examples:
  panelctl test-mode sweep                      # from cron or a systemd timer, e.g. every 5 minutes
  panelctl test-mode sweep --watch              # a long-running sweeper (systemd service), one leader per desk`,
    )
    .action(run((m) => m.runSweep));
}
