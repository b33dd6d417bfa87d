import type { Command } from 'commander';
import { lazyAction } from '../lazy.js';

const run = (name: string) => lazyAction(() => import('../actions/audit.js'), name);

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('show and verify the hash-chained audit log of every write');
  audit
    .command('show')
    .description('show audit entries')
    .option('-p, --panel <name>', 'only this panel')
    .option('--last <n>', 'only the last N entries')
    .action(run('runShow'));
  audit
    .command('verify')
    .description('check that no entry was edited, inserted or removed (exit 5 if it was)')
    .action(run('runVerify'));
}
