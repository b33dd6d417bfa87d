import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, filterEntries, prepareAudit, readAudit, verifyAudit, type AuditEntry, type AuditRecord } from '../../src/audit/log.js';
import { closeSharedStores, configureSharedStore, type AuditFilter } from '../../src/state/store.js';
import { tempDirPerTest } from '../support/temp-dir.js';

/**
 * With a shared store configured, the audit functions write to and read from it (README "Team setup"), and not the
 * files: the state dir (a fresh path per test, not a fixed one root could write) is never made.
 */
const temp = tempDirPerTest('panelctl-shared-audit-');
let DIR = '';
beforeEach(() => {
  DIR = path.join(temp.dir, 'state');
});

afterEach(() => closeSharedStores());

describe('audit functions with a shared store', () => {
  it('append, prepare, read (with its filter) and verify go to the store', async () => {
    const calls: unknown[] = [];
    configureSharedStore(DIR, async () => ({
      kind: 'postgres',
      description: 'fake',
      workLocks: { acquire: async () => ({ release: async () => undefined }) },
      leases: {} as never,
      audit: {
        prepare: async () => void calls.push('prepare'),
        appendBatch: async (records: AuditRecord[]) => {
          calls.push(['append', records.length]);
          return records.map((r, i) => ({ ...r, seq: i + 1 }) as AuditEntry);
        },
        read: async (filter?: AuditFilter) => {
          calls.push(['read', filter]);
          return [];
        },
        verify: async () => {
          calls.push('verify');
          return { entries: 7, problems: [] };
        },
      },
      bulk: {} as never,
      stateKey: async () => ({}) as never,
      sweepLeadership: () => ({ lead: async () => true, release: async () => undefined }),
      close: async () => undefined,
    }));
    await prepareAudit(DIR);
    const entry = await appendAudit(DIR, { operator: 'anna', panel: 'p', action: 'users.set-code', outcome: 'ok' });
    expect(entry.seq).toBe(1);
    expect(await readAudit(DIR, { panel: 'p', limit: 2 })).toEqual([]);
    expect(await verifyAudit(DIR)).toEqual({ entries: 7, problems: [] });
    expect(calls).toEqual(['prepare', ['append', 1], ['read', { panel: 'p', limit: 2 }], 'verify']);
    expect(fs.existsSync(DIR)).toBe(false);
  });
});

describe('filterEntries (the files backend filters in memory, as the database does)', () => {
  const e = (seq: number, panel: string, operator: string, time: string) => ({ seq, panel, operator, time }) as AuditEntry;
  const all = [e(1, 'a', 'anna', '2026-11-30T10:00:00Z'), e(2, 'b', 'bob', '2026-11-30T11:00:00Z'), e(3, 'a', 'bob', '2026-11-30T12:00:00Z')];
  it('by panel, operator, since (inclusive) and the last N', () => {
    expect(filterEntries(all, { panel: 'a' }).map((x) => x.seq)).toEqual([1, 3]);
    expect(filterEntries(all, { operator: 'bob' }).map((x) => x.seq)).toEqual([2, 3]);
    expect(filterEntries(all, { since: Date.parse('2026-11-30T11:00:00Z') }).map((x) => x.seq)).toEqual([2, 3]);
    expect(filterEntries(all, { limit: 1 }).map((x) => x.seq)).toEqual([3]);
    expect(filterEntries(all, { operator: 'bob', panel: 'a', limit: 5 }).map((x) => x.seq)).toEqual([3]);
    expect(filterEntries(all, {})).toEqual(all);
  });
});
