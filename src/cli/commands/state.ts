import type { Command } from 'commander';
import { lazyActions } from '../lazy.js';
import { withExamples } from './examples.js';

const run = lazyActions(() => import('../actions/state.js'));

/** Team mode (README "Team setup"): the shared state store and who holds which panel. */
export function registerState(program: Command): void {
  const state = withExamples(
    program.command('state').description('the shared state store of a desk (PANELCTL_STATE=postgres://... or state: in the inventory)'),
    'PANELCTL_STATE=postgres://panelctl@db.example/panelctl panelctl state migrate',
  );
  withExamples(
    state.command('migrate').description("create or upgrade the shared store's schema (safe to repeat; refuses a newer schema)"),
    'panelctl state migrate',
  ).action(run((m) => m.runMigrate));
  withExamples(
    state
      .command('grants')
      .description('print the SQL that lets a role use the store without owning it (run it as the owner; that role cannot change the audit log)')
      .requiredOption('--role <name>', 'the role engineers and sweepers connect as')
      .option('--schema <name>', "the schema panelctl's tables are in", 'public'),
    'panelctl state grants --role panelctl_desk | psql -U owner panelctl',
  ).action(run((m) => m.runGrants));
  withExamples(
    state
      .command('import')
      .description("move one engineer's files state (leases, audit log, bulk journals) into the shared store; verifies the audit chain first; safe to repeat")
      .requiredOption('--from-dir <dir>', 'the state dir to import (e.g. ~/.local/state/panelctl)'),
    'panelctl state import --from-dir ~/.local/state/panelctl',
  ).action(run((m) => m.runImport));
  withExamples(
    program.command('locks').description('panels that a panelctl command is talking to right now, on this machine or, with a shared store, the whole desk'),
    'panelctl locks',
    'panelctl locks -o json',
  ).action(run((m) => m.runLocks));
}
