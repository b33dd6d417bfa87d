import fs from 'node:fs/promises';
import path from 'node:path';
import { AuditBrokenError, RECOVERED_WHY, readAuditFiles, verifyAuditFiles } from '../audit/log.js';
import { readJournalFiles } from '../bulk/journal.js';
import { listLeaseFiles } from './leases.js';
import type { PgSharedStore } from './postgres/store.js';

/**
 * `panelctl state import --from-dir DIR`: one engineer's files state moved into the desk's store.
 * The audit log is verified first (a broken chain is not imported: exit 5, nothing done); its
 * entries are chained onto the desk's log keeping their time, each marked with where it came from.
 * Leases are written as they are (one already active on that panel from someone else is reported,
 * not replaced); journals by plan. Everything imported is recorded, so running it again adds nothing.
 * The files are left where they are.
 */
export interface ImportReport {
  from: string;
  audit: { imported: number; already: number };
  leases: { imported: number; conflicts: Array<{ panel: string; reason: string }> };
  journals: { plans: number; imported: number; already: number };
}

export async function importFromDir(store: PgSharedStore, dir: string): Promise<ImportReport> {
  const from = path.resolve(dir);
  const verified = await verifyAuditFiles(from);
  if (verified.problems.length) {
    const first = verified.problems[0];
    throw new AuditBrokenError(
      `the audit log in ${from} is not intact (${verified.problems.length} problem(s); line ${first.line}: ${first.problem}); nothing was imported`,
    );
  }
  // Entries after the signed head (a writer cut off between its log and its head) were never signed there: each
  // keeps saying so in the desk's log, as a files writer's audit.recovered entry would have said.
  const unsigned = verified.unsigned;
  const entries = (await readAuditFiles(from)).map((entry) =>
    unsigned && entry.seq >= unsigned.from && entry.seq <= unsigned.to ? { ...entry, details: { ...entry.details, unsignedInSource: RECOVERED_WHY } } : entry,
  );
  const audit = await store.audit.importEntries(entries, from);

  const leases: ImportReport['leases'] = { imported: 0, conflicts: [] };
  for (const lease of await listLeaseFiles(from)) {
    try {
      await store.leases.write(lease);
      leases.imported++;
    } catch (error) {
      leases.conflicts.push({ panel: lease.panel, reason: (error as Error).message });
    }
  }

  const journals: ImportReport['journals'] = { plans: 0, imported: 0, already: 0 };
  const bulk = path.join(from, 'bulk');
  for (const plan of await fs.readdir(bulk).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{16}$/.test(plan)) continue;
    const entries = await readJournalFiles(path.join(bulk, plan));
    if (!entries.length) continue;
    journals.plans++;
    const result = await store.bulk.importJournal(plan, 'imported', entries);
    journals.imported += result.imported;
    journals.already += result.already;
  }
  return { from, audit, leases, journals };
}
