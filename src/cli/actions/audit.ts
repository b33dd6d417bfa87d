import { PanelctlError, ExitCode } from '../../core/errors.js';
import { readAudit, verifyAudit } from '../../audit/log.js';
import type { Cli } from '../context.js';

export async function runShow(cli: Cli, flags: { panel?: string; last?: string }): Promise<void> {
  let entries = await readAudit(cli.ctx.stateDir);
  if (flags.panel) entries = entries.filter((e) => e.panel === flags.panel);
  if (flags.last) entries = entries.slice(-Number(flags.last));
  cli.out.result({ entries }, entries, [
    { header: 'SEQ', value: (e) => e.seq, align: 'right' },
    { header: 'TIME', value: (e) => e.time },
    { header: 'OPERATOR', value: (e) => e.operator },
    { header: 'TICKET', value: (e) => e.ticket ?? '' },
    { header: 'PANEL', value: (e) => e.panel },
    { header: 'ACTION', value: (e) => e.action },
    { header: 'SLOT', value: (e) => e.slot ?? '', align: 'right' },
    { header: 'OUTCOME', value: (e) => (e.outcome === 'ok' ? cli.out.color.green(e.outcome) : cli.out.color.red(`${e.outcome}${e.error ? ` ${e.error.code}` : ''}`)) },
  ]);
}

export async function runVerify(cli: Cli): Promise<void> {
  const { entries, problems } = await verifyAudit(cli.ctx.stateDir);
  cli.out.result({ entries, intact: problems.length === 0, problems }, problems.length ? problems : undefined, [
    { header: 'LINE', value: (p) => p.line, align: 'right' },
    { header: 'PROBLEM', value: (p) => p.problem },
  ]);
  if (problems.length) {
    throw new PanelctlError(ExitCode.protocol, 'E_AUDIT_BROKEN', `the audit log is not intact: ${problems.length} problem(s) in ${entries} entries`);
  }
  cli.out.say(`${cli.out.color.green('✓')} audit log intact: ${entries} entries, chain and head agree`);
}

