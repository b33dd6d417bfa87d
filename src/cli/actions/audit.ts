import { PanelctlError, ExitCode, ValidationError } from '../../core/errors.js';
import { readAudit, readAuditFiles, verifyAudit, type AuditEntry } from '../../audit/log.js';
import { parseDuration } from '../../core/duration.js';
import { localTime } from '../../output/time.js';
import type { Column } from '../../output/table.js';
import type { Cli } from '../context.js';

interface ShowFlags {
  panel?: string;
  since?: string;
  limit?: string;
  last?: string;
  pager?: boolean;
}

/**
 * --since: a duration back from now (`2h`, `7d`, `1h30m`) or a local date or date-time
 * (`2026-11-30`, `2026-11-30 14:00`, or ISO 8601 with a zone).
 */
export function parseSince(text: string, now = Date.now()): number {
  const date = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (date) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0'] = date;
    const local = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
    if (local.getMonth() !== Number(mo) - 1) throw new ValidationError('--since', `"${text}" is not a real date`);
    return local.getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text.trim()) && !Number.isNaN(Date.parse(text))) return Date.parse(text);
  try {
    return now - parseDuration(text, '--since');
  } catch {
    throw new ValidationError('--since', 'must be a duration back from now (2h, 7d, 1h30m) or a date (2026-11-30, "2026-11-30 14:00")');
  }
}

function positiveCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ValidationError(flag, 'must be a whole number of entries, 1 or more');
  return Number(text);
}

/** `panelctl audit show`: --operator is the global flag (who is acting); here, where nobody acts, it filters. */
export async function runShowCommand(cli: Cli, flags: ShowFlags): Promise<void> {
  await runShow(cli, { ...flags, operator: cli.globals.operator, pager: flags.pager !== false });
}

/** The audit table (also the shell's audit view, which pages nothing and filters by panel only). */
export async function runShow(cli: Cli, flags: ShowFlags & { operator?: string }): Promise<void> {
  const operator = flags.operator;
  const since = flags.since === undefined ? undefined : parseSince(flags.since);
  const limitText = flags.limit ?? flags.last;
  const limit = limitText === undefined ? undefined : positiveCount(limitText, flags.limit !== undefined ? '--limit' : '--last');
  // A shared store filters in the database (README "Team setup"); the files are filtered here.
  const filter = { panel: flags.panel || undefined, operator: operator || undefined, since, limit };
  const { orLocalView } = await import('../../state/select.js');
  const entries = await orLocalView(
    cli,
    "this machine's audit log only",
    () => readAudit(cli.ctx.stateDir, filter),
    () => readAuditFiles(cli.ctx.stateDir, filter),
  );
  const columns: Column<AuditEntry>[] = [
    { header: 'SEQ', value: (e) => e.seq, align: 'right' },
    { header: 'TIME', value: (e) => localTime(e.time) },
    { header: 'OPERATOR', value: (e) => e.operator },
    { header: 'TICKET', value: (e) => e.ticket ?? '' },
    { header: 'PANEL', value: (e) => e.panel },
    { header: 'ACTION', value: (e) => e.action },
    { header: 'SLOT', value: (e) => e.slot ?? '', align: 'right' },
    { header: 'NAME', value: (e) => e.name ?? '' },
    {
      header: 'OUTCOME',
      value: (e) => (e.outcome === 'ok' ? cli.out.color.green(e.outcome) : cli.out.color.red(`${e.outcome}${e.error ? ` ${e.error.code}` : ''}`)),
    },
  ];
  if (cli.out.machine || !entries.length) return cli.out.result({ entries }, entries, columns);
  const { renderTable } = await import('../../output/table.js');
  const { page } = await import('../../output/pager.js');
  await page(`${renderTable(entries, columns, { header: (h) => cli.out.color.bold(h) })}\n`, { enabled: flags.pager === true });
}

export async function runVerify(cli: Cli): Promise<void> {
  const { entries, problems, unsigned } = await verifyAudit(cli.ctx.stateDir);
  cli.out.result({ entries, intact: problems.length === 0, problems, ...(unsigned && { unsigned }) }, problems.length ? problems : undefined, [
    { header: 'LINE', value: (p) => p.line, align: 'right' },
    { header: 'PROBLEM', value: (p) => p.problem },
  ]);
  if (problems.length) {
    throw new PanelctlError(ExitCode.protocol, 'E_AUDIT_BROKEN', `the audit log is not intact: ${problems.length} problem(s) in ${entries} entries`);
  }
  if (unsigned) {
    // Not proof of tampering (the entries chain from the signed head), but not signed either: a warning, exit 8 with --detailed-exitcode.
    cli.out.warn(
      `entries ${unsigned.from}..${unsigned.to} follow the signed head unsigned: a writer was cut off between the log's sync and its head; the next audit write signs them with an audit.recovered entry`,
    );
    cli.attention(`entries ${unsigned.from}..${unsigned.to} of the audit log are not signed yet`);
    return cli.out.say(`audit log chain intact: ${entries} entries, signed through entry ${unsigned.from - 1}`);
  }
  cli.out.say(`${cli.out.color.green('✓')} audit log intact: ${entries} entries, chain and head agree`);
}
