import fs from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';
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
