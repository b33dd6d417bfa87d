import type { Command } from 'commander';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/bulk.js'));

/**
 * Note: -o is the global output format (table|json|ndjson), so the plan file is `--out`.
 */
export function registerBulk(program: Command): void {
  const bulk = withExamples(
    program.command('bulk').description('change codes on many panels: plan (read-only), apply (parallel, resumable), status'),
    'panelctl bulk plan changes.csv --out plan.json',
    'panelctl bulk apply plan.json --codes-out codes.csv',
    'panelctl bulk status plan.json',
  );

  bulk
    .command('plan')
    .description('compare a change list (CSV or JSON Lines) with every panel it names and write a plan; changes nothing')
    .argument('<changes>', 'change list: columns panel, action (add|set-code|remove), slot or user, name, partitions, type, code')
    .requiredOption('--out <plan.json>', 'where to write the plan (it holds no code)')
    .option('--limit <selector>', 'only panels matching tags, e.g. site=oslo,customer=1042')
    .option('--all', 'let * in the change list select every panel of the inventory without --limit (asked on a terminal otherwise)')
    .option('--codes <file>', 'codes file (CSV, yours only: 0600) for rows whose code is codes:COLUMN')
    .option('--concurrency <n>', 'panels read at once', '16')
    .option('--allow-weak', 'accept weak codes from the codes file')
    .addHelpText(
      'after',
      `
Examples:
  panelctl bulk plan changes.csv --out plan.json
  panelctl bulk plan changes.csv --out plan.json --limit site=oslo --codes codes.csv
  panelctl --detailed-exitcode bulk plan changes.csv --out plan.json   # exit 8 when some rows conflict`,
    )
    .action(run((m) => m.runPlan));

  bulk
    .command('apply')
    .description('carry out a plan: panels in parallel, steps per panel in order on one connection, every write verified')
    .argument('<plan>', 'plan file written by `bulk plan --out`')
    .option('--concurrency <n>', 'panels worked on at once', '16')
    .option('--resume', 'continue an interrupted apply: skip done steps, check steps in flight on the panel first')
    .option('--shard <i/n>', 'only this deterministic share of the panels (0 <= i < n), e.g. $JOB_COMPLETION_INDEX/8')
    .option('--codes-out <file>', 'write generated codes here (created 0600): panel,slot,name,code,status')
    .option('--reveal', 'print generated codes on stdout instead (they are not kept anywhere else)')
    .option('--codes <file>', 'the codes file the plan refers to (0600)')
    .option('--allow-weak', 'accept weak codes from the codes file or stdin')
    .option('--retries <n>', 'further attempts after a timeout, busy panel or lost connection', '3')
    .addHelpText(
      'after',
      `
Examples:
  panelctl bulk apply plan.json --codes-out codes.csv
  panelctl bulk apply plan.json --resume --codes-out codes.csv     # after an interruption
  panelctl bulk apply plan.json --shard $JOB_COMPLETION_INDEX/8 -o ndjson`,
    )
    .action(run((m) => m.runApply));

  bulk
    .command('status')
    .description("what a plan's journal says: steps done, failed, in flight, pending")
    .argument('<plan>', 'plan file')
    .option('--shard <i/n>', 'only this shard')
    .addHelpText(
      'after',
      `
Examples:
  panelctl bulk status plan.json
  panelctl --detailed-exitcode bulk status plan.json -o json    # exit 8 when steps failed`,
    )
    .action(run((m) => m.runStatus));
}
