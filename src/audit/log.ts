import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import lockfile from 'proper-lockfile';
import { appendPrivateLine, ensurePrivateDir, touchPrivateFile, writePrivateFile } from '../state/private-files.js';

/**
 * The audit log: one JSON line per write attempt, each carrying the hash of the one before,
 * so an edited, inserted or removed line breaks the chain. A separate head file records the
 * last sequence number and hash, so cutting lines off the end is detected too.
 * Entries hold who, what, where and the outcome: never a code, nor a hash of one.
 */
export interface AuditRecord {
  operator: string;
  ticket?: string;
  panel: string;
  driver?: string;
  action: string;
  slot?: number;
  name?: string;
  outcome: 'ok' | 'failed' | 'refused' | 'unverified';
  error?: { code: string; message: string };
  details?: Record<string, string | number | boolean>;
}

export interface AuditEntry extends AuditRecord {
  v: 1;
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

export function auditPaths(stateDir: string) {
  return { log: path.join(stateDir, 'audit.jsonl'), head: path.join(stateDir, 'audit.head.json') };
}

function hashOf(entry: Omit<AuditEntry, 'hash'>): string {
  // Fixed key order so the hash does not depend on how the object was built.
  const { v, seq, time, prev, ...rest } = entry;
  const body = JSON.stringify({ v, seq, time, prev, ...sortKeys(rest) });
  return createHash('sha256').update(body).digest('hex');
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}

async function readHead(file: string): Promise<{ seq: number; hash: string }> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return { seq: 0, hash: GENESIS };
  }
}

interface Pending {
  record: AuditRecord;
  resolve: (entry: AuditEntry) => void;
  reject: (error: unknown) => void;
}

/** Records waiting to be written, per state dir: one lock and one fsync serve all that queued meanwhile. */
const queues = new Map<string, { waiting: Pending[]; flushing: boolean }>();

/** Appends one record. Safe across processes (a file lock) and within one (bulk writes many at once). */
/**
 * Checks, before a write is sent to a panel, that its audit entry can be written afterwards: the
 * state dir private and the log not loosened. Otherwise the change would land unrecorded.
 */
export async function prepareAudit(stateDir: string): Promise<void> {
  const paths = auditPaths(stateDir);
  await ensurePrivateDir(stateDir);
  await touchPrivateFile(paths.log, 'audit log');
}

export function appendAudit(stateDir: string, record: AuditRecord): Promise<AuditEntry> {
  let queue = queues.get(stateDir);
  if (!queue) queues.set(stateDir, (queue = { waiting: [], flushing: false }));
  const q = queue;
  return new Promise((resolve, reject) => {
    q.waiting.push({ record, resolve, reject });
    if (!q.flushing) void flush(stateDir, q);
  });
}

async function flush(stateDir: string, queue: { waiting: Pending[]; flushing: boolean }): Promise<void> {
  queue.flushing = true;
  while (queue.waiting.length) {
    const batch = queue.waiting.splice(0);
    try {
      const entries = await writeBatch(stateDir, batch.map((p) => p.record));
      batch.forEach((p, i) => p.resolve(entries[i]));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
  queue.flushing = false;
}

async function writeBatch(stateDir: string, records: AuditRecord[]): Promise<AuditEntry[]> {
  const paths = auditPaths(stateDir);
  await prepareAudit(stateDir);
  // The lock's mtime is refreshed while held; a writer killed with -9 leaves it stale after 4 s,
  // and the retries (about 8 s in all) outlast that, so the next writer waits instead of failing.
  const release = await lockfile.lock(paths.log, { retries: { retries: 40, minTimeout: 20, maxTimeout: 200 }, stale: 4_000 });
  try {
    let head = await readHead(paths.head);
    const entries: AuditEntry[] = [];
    for (const record of records) {
      const clean = JSON.parse(JSON.stringify(record)) as AuditRecord; // drops undefined; a Secret would mask itself anyway
      const unsigned = { v: 1 as const, seq: head.seq + 1, time: new Date().toISOString(), prev: head.hash, ...clean };
      const entry: AuditEntry = { ...unsigned, hash: hashOf(unsigned) };
      entries.push(entry);
      head = { seq: entry.seq, hash: entry.hash };
    }
    await appendPrivateLine(paths.log, entries.map((e) => JSON.stringify(e)).join('\n'));
    await writePrivateFile(paths.head, JSON.stringify(head));
    return entries;
  } finally {
    await release();
  }
}

export async function readAudit(stateDir: string): Promise<AuditEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(auditPaths(stateDir).log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      try {
        return JSON.parse(line) as AuditEntry;
      } catch {
        return { seq: -1, hash: 'unparseable' } as AuditEntry;
      }
    });
}

export interface AuditProblem {
  line: number;
  problem: string;
}

/** Walks the chain; returns every break found (empty means intact). */
export async function verifyAudit(stateDir: string): Promise<{ entries: number; problems: AuditProblem[] }> {
  const entries = await readAudit(stateDir);
  const problems: AuditProblem[] = [];
  let prev = GENESIS;
  let expectedSeq = 1;
  entries.forEach((entry, index) => {
    const line = index + 1;
    if (entry.seq === -1) {
      problems.push({ line, problem: 'line is not valid JSON' });
      return;
    }
    const { hash, ...unsigned } = entry;
    if (entry.seq !== expectedSeq) problems.push({ line, problem: `sequence ${entry.seq} where ${expectedSeq} was expected (an entry was removed or inserted)` });
    if (entry.prev !== prev) problems.push({ line, problem: 'does not follow the entry before it (an entry before it was changed or removed)' });
    if (hashOf(unsigned) !== hash) problems.push({ line, problem: 'content does not match its hash (the entry was edited)' });
    prev = hash;
    expectedSeq = entry.seq + 1;
  });
  const head = await readHead(auditPaths(stateDir).head);
  if (head.seq !== expectedSeq - 1 || head.hash !== prev) {
    problems.push({ line: entries.length, problem: `the log ends at entry ${expectedSeq - 1} but ${head.seq} were written (entries were cut off the end)` });
  }
  return { entries: entries.length, problems };
}
