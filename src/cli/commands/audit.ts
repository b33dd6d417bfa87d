import { Option, type Command } from 'commander';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/audit.js'));

export function registerAudit(program: Command): void {
  const audit = withExamples(
    program.command('audit').description('show and verify the hash-chained audit log of every write'),
    'panelctl audit show --since 1d',
    'panelctl audit verify',
  );
  audit
    .command('show')
    .description('show audit entries')
    .option('-p, --panel <name>', 'only this panel')
    .option('--since <when>', 'only entries since a time: a duration back from now (2h, 7d) or a date (2026-11-30, "2026-11-30 14:00")')
    .option('--limit <n>', 'only the last N entries (after the other filters)')
    .addOption(new Option('--last <n>', 'the same as --limit').hideHelp())
    .option('--no-pager', 'print straight to the terminal (default on a terminal: $PAGER, or less -FRX)')
    .addHelpText(
      'after',
      `
--operator NAME (the global flag) shows only that operator's entries.

Examples:
  panelctl audit show --panel oslo-office --since 7d
  panelctl audit show --operator anna --since 2026-11-30 --limit 20
  panelctl audit show -o json | jq '.entries[] | select(.outcome != "ok")'`,
    )
    .action(run((m) => m.runShowCommand));
  withExamples(
    audit.command('verify').description('check that no entry was edited, inserted or removed (exit 5 if it was)'),
    'panelctl audit verify',
    'panelctl audit verify -o json',
  ).action(run((m) => m.runVerify));
}
