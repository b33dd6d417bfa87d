import fs from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, UsageError } from '../../core/errors.js';
import { localTime } from '../../output/time.js';
import { ownerIsGone, readOwner } from '../../state/process-lock.js';
import { sharedStore, type SharedStore } from '../../state/store.js';
import type { Cli } from '../context.js';

async function requireShared(cli: Cli): Promise<SharedStore> {
  const shared = await sharedStore(cli.ctx.stateDir);
  if (!shared) {
    throw new UsageError('no shared state store is configured: this machine keeps its state in files', {
      code: 'E_NO_SHARED_STATE',
      hint: 'set PANELCTL_STATE=postgres://user@host/database, or `state: postgres://...` in the inventory (README "Team setup")',
    });
  }
  return shared;
}

export async function runMigrate(cli: Cli): Promise<void> {
  const shared = await requireShared(cli);
  const { PgSharedStore } = await import('../../state/postgres/store.js');
  const { migrate } = await import('../../state/postgres/migrations.js');
  const result = await migrate((shared as InstanceType<typeof PgSharedStore>).db);
  cli.out.result({ store: shared.description, ...result }, undefined, []);
  if (!cli.out.machine) {
    cli.out.say(
      result.applied.length
        ? `${shared.description}: schema ${result.from} -> ${result.to} (${result.applied.map((m) => `${m.version} ${m.name}`).join('; ')})`
        : `${shared.description}: schema ${result.to}, already up to date`,
    );
  }
}

/** Pure text: needs no store, so the owner can pipe it into psql wherever they are. */
export async function runGrants(cli: Cli, flags: { role: string; schema: string }): Promise<void> {
  const { grantsFor } = await import('../../state/postgres/grants.js');
  const sql = grantsFor(flags.role, flags.schema);
  cli.out.result({ role: flags.role, schema: flags.schema, sql }, undefined, []);
  if (!cli.out.machine) cli.out.print(sql.trimEnd());
}

export async function runImport(cli: Cli, flags: { fromDir: string }): Promise<void> {
  const shared = await requireShared(cli);
  const { importFromDir } = await import('../../state/import.js');
  const report = await importFromDir(shared as InstanceType<typeof import('../../state/postgres/store.js').PgSharedStore>, flags.fromDir);
  cli.out.result({ store: shared.description, ...report }, undefined, []);
  // A lease left out is a test the desk cannot see: exit 7, like any partly done change.
  if (report.leases.conflicts.length) process.exitCode = ExitCode.partial;
  if (cli.out.machine) return;
  cli.out.say(`imported from ${report.from} into ${shared.description}:`);
  cli.out.say(`  audit: ${report.audit.imported} entries added to the desk's chain, ${report.audit.already} were there already`);
  cli.out.say(`  leases: ${report.leases.imported} written${report.leases.conflicts.length ? `, ${report.leases.conflicts.length} not (see below)` : ''}`);
  cli.out.say(`  bulk journals: ${report.journals.imported} lines of ${report.journals.plans} plan(s) added, ${report.journals.already} were there already`);
  for (const c of report.leases.conflicts) cli.out.warn(`lease on ${c.panel} not imported: ${c.reason}`);
  cli.out.note('the files were left where they are; with the shared store configured, panelctl no longer reads them');
}

export interface LockRow {
  panel: string;
  operator?: string;
  command?: string;
  ticket?: string;
  host?: string;
  pid?: number;
  since: string;
}

/** The files backend's locks: lock files under <state>/locks/panels whose process is alive. */
async function fileLocks(stateDir: string): Promise<LockRow[]> {
  const dir = path.join(stateDir, 'locks', 'panels');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const rows: LockRow[] = [];
  for (const name of names.filter((n) => n.endsWith('.lock'))) {
    const owner = await readOwner(path.join(dir, name));
    if (!owner || ownerIsGone(owner)) continue;
    rows.push({
      panel: String(owner.panel ?? owner.key ?? '?'),
      operator: owner.operator as string | undefined,
      command: owner.command as string | undefined,
      ticket: owner.ticket as string | undefined,
      host: owner.host,
      pid: owner.pid,
      since: owner.since,
    });
  }
  return rows.sort((a, b) => a.since.localeCompare(b.since));
}

export async function runLocks(cli: Cli): Promise<void> {
  const shared = await sharedStore(cli.ctx.stateDir);
  let locks: LockRow[];
  if (shared) {
    const { LIST_LOCKS } = await import('../../state/postgres/work-locks.js');
    const { PgSharedStore } = await import('../../state/postgres/store.js');
    const { orLocalView } = await import('../../state/select.js');
    locks = await orLocalView(
      cli,
      "this machine's locks only",
      async () => {
        const { rows } = await (shared as InstanceType<typeof PgSharedStore>).db.query<LockRow & { since: Date | string }>(LIST_LOCKS);
        return rows.map((r) => ({ ...r, since: new Date(r.since).toISOString(), operator: r.operator ?? undefined }));
      },
      () => fileLocks(cli.ctx.stateDir),
    );
  } else {
    locks = await fileLocks(cli.ctx.stateDir);
  }
  cli.out.result({ store: shared?.description ?? 'files', locks }, locks, [
    { header: 'PANEL', value: (l) => l.panel },
    { header: 'OPERATOR', value: (l) => l.operator ?? '' },
    { header: 'COMMAND', value: (l) => l.command ?? '' },
    { header: 'SINCE', value: (l) => localTime(l.since) },
    { header: 'TICKET', value: (l) => l.ticket ?? '' },
    { header: 'HOST', value: (l) => l.host ?? '' },
    { header: 'PID', value: (l) => l.pid ?? '', align: 'right' },
  ]);
}
