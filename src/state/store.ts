import type { AuditEntry, AuditProblem, AuditRecord } from '../audit/log.js';
import type { Claim } from '../bulk/claims.js';
import type { JournalEntry } from '../bulk/journal.js';
import type { StateKey } from './state-key.js';
import type { Lease } from './leases.js';
import type { Leadership } from './sweep-leader.js';
import type { WorkLockStore } from './work-locks.js';

/**
 * Where panelctl keeps what makes it safe: work locks, test-mode leases, the audit log. Two
 * backends: the files in one engineer's state dir (the default: nothing to install, works offline)
 * and a desk's shared PostgreSQL (`PANELCTL_STATE=postgres://...` or `state:` in the inventory;
 * README "Team setup"). The module functions of leases.ts and audit/log.ts ask `sharedStore` first,
 * so operations keep one code path whichever backend holds the state.
 */

export interface AuditFilter {
  panel?: string;
  operator?: string;
  /** Epoch ms: entries at or after this time. */
  since?: number;
  /** Only the last N entries (after the other filters). */
  limit?: number;
}

export interface LeaseStore {
  read(panel: string): Promise<Lease | undefined>;
  write(lease: Lease): Promise<void>;
  remove(panel: string): Promise<void>;
  list(): Promise<Lease[]>;
  /** Runs `work` holding the panel's lease lock; `wait: false` gives up at once (returns LOCKED). */
  withLock<T>(panel: string, wait: boolean, work: () => Promise<T>): Promise<T | typeof LOCKED>;
}

export interface AuditStore {
  /** Checks, before a panel is written, that the entry can be written afterwards. */
  prepare(): Promise<void>;
  appendBatch(records: AuditRecord[]): Promise<AuditEntry[]>;
  read(filter?: AuditFilter): Promise<AuditEntry[]>;
  verify(): Promise<{ entries: number; problems: AuditProblem[] }>;
}

export interface ClaimRequest {
  shard: string | null;
  panels: string[];
  operator?: string;
  ticket?: string;
}

/** Bulk plans' journals (all shards of a plan together) and the claims of running applies. */
export interface BulkStore {
  appendJournal(plan: string, shard: string, entries: JournalEntry[]): Promise<void>;
  readJournal(plan: string): Promise<JournalEntry[]>;
  plansWithJournals(): Promise<string[]>;
  liveClaims(plan: string): Promise<Claim[]>;
  /** Claims `request.panels` unless `conflict` throws for the live claims that overlap; returns the release. */
  claim(plan: string, request: ClaimRequest, conflict: (live: Claim[]) => void): Promise<() => Promise<void>>;
}

export interface SharedStore {
  readonly kind: 'postgres';
  /** The store as shown to people (no password). */
  readonly description: string;
  readonly workLocks: WorkLockStore;
  readonly leases: LeaseStore;
  readonly audit: AuditStore;
  readonly bulk: BulkStore;
  /** The desk's key (signs bulk plans and the audit head), kept in the store. */
  stateKey(): Promise<StateKey>;
  /** The desk-wide leadership of `test-mode sweep --watch`. */
  sweepLeadership(): Leadership;
  close(): Promise<void>;
}

export const LOCKED = Symbol('locked');

type Resolver = () => Promise<SharedStore | undefined>;
const resolvers = new Map<string, Resolver>();
const opened = new Set<Promise<SharedStore | undefined>>();

/** Says which store serves this state dir: the resolver runs once, on first use (undefined: the files). */
export function configureSharedStore(stateDir: string, resolve: Resolver): void {
  let once: Promise<SharedStore | undefined> | undefined;
  resolvers.set(stateDir, () => {
    if (!once) {
      once = resolve();
      opened.add(once);
    }
    return once;
  });
}

/** The shared store configured for this state dir, or undefined when its state is in files. */
export async function sharedStore(stateDir: string): Promise<SharedStore | undefined> {
  const resolve = resolvers.get(stateDir);
  return resolve ? resolve() : undefined;
}

/** Closes every store this process opened (so the process can exit). */
export async function closeSharedStores(): Promise<void> {
  const all = [...opened];
  opened.clear();
  resolvers.clear();
  await Promise.all(all.map((p) => p.then((s) => s?.close()).catch(() => undefined)));
}
