import path from 'node:path';
import { createHash } from 'node:crypto';
import { ExitCode, PanelctlError } from '../core/errors.js';
import { closeSync, fstatSync, ftruncateSync, readSync, realpathSync } from 'node:fs';
import { ensurePrivateDirNow, readPrivateStateFile, touchPrivateFile } from '../state/private-files.js';
import { appendNow, checkPrivateFileNow, openPrivateAppendNow, readPrivateFileNow, replacePrivateFileNow, syncNow } from '../state/safe-file.js';
import { loadStateKeyFile as loadStateKey, readStateKeyFileNow, type StateKey } from '../state/state-key.js';
import { coalesce } from '../core/coalesce.js';
import { sharedStore, type AuditFilter } from '../state/store.js';
import type { Proof } from '../core/contract.js';

/**
 * The audit log: one JSON line per write attempt, each carrying the hash of the one before,
 * so an edited, inserted or removed line breaks the chain. A separate head file records the
 * last sequence number and hash, signed with the state key (HMAC), so cutting lines off the
 * end and rewriting the head to match is detected too. What this can and cannot prove is in
 * SECURITY.md ("Audit log").
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
  /**
   * How a write that went through was proven (src/core/contract.ts Proof): code-check, read-back,
   * or panel-ack (acknowledged by the panel, not read back).
   */
  proof?: Proof;
  error?: { code: string; message: string };
  details?: Record<string, string | number | boolean>;
}

export interface AuditEntry extends AuditRecord {
  v: 1;
  seq: number;
  time: string;
  prev: string;
  hash: string;
  /** The machine that wrote it (team store: many hosts write one log). */
  host?: string;
}

export const GENESIS = '0'.repeat(64);

export function auditPaths(stateDir: string) {
  return { log: path.join(stateDir, 'audit.jsonl'), head: path.join(stateDir, 'audit.head.json') };
}

/** The hash an entry carries (exported so tests can forge a well-chained entry). */
export function hashOf(entry: Omit<AuditEntry, 'hash'>): string {
  // Fixed key order so the hash does not depend on how the object was built.
  const { v, seq, time, prev, ...rest } = entry;
  const body = JSON.stringify({ v, seq, time, prev, ...sortKeys(rest) });
  return createHash('sha256').update(body).digest('hex');
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, value[k]]),
  );
}

interface Head {
  seq: number;
  hash: string;
  /** HMAC of seq and hash with the state key: without the key a head cannot be made to match a shortened log. */
  mac?: string;
}

export const headData = (head: { seq: number; hash: string }) => `${head.seq}:${head.hash}`;

function signHead(key: StateKey, head: { seq: number; hash: string }): Head {
  return { seq: head.seq, hash: head.hash, mac: key.sign('audit-head', headData(head)) };
}

/** The head file as written, or undefined when there is none; 'malformed' when it is not a head. */
function readHead(file: string): Head | 'malformed' | undefined {
  let text: string;
  try {
    text = readPrivateFileNow(file, 'audit head', 4096);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const head = JSON.parse(text) as Head;
    if (Number.isInteger(head?.seq) && typeof head.hash === 'string') return head;
  } catch {
    // below
  }
  return 'malformed';
}

/**
 * The audit log opened for appending under the writers' lock (ensureAuditLog made it before the lock
 * was taken), checked on its descriptor with synchronous calls (a bulk apply writes a batch every few
 * steps: safe-file.ts says why): the state dir private, the log a regular 0600 file of the caller's
 * with one link.
 */
function openAuditLog(stateDir: string): number {
  const file = auditPaths(stateDir).log;
  ensurePrivateDirNow(stateDir);
  const fd = openPrivateAppendNow(file, 'audit log');
  if (fd === undefined) throw Object.assign(new Error(`ENOENT: the audit log ${file} was removed as it was about to be written`), { code: 'ENOENT' });
  return fd;
}

/**
 * The state dir private and the log there, a regular 0600 file of the caller's with one link (made
 * when missing), checked without opening it: what is written is opened and checked again under the
 * lock. One stat per bulk step instead of an open, a stat and a close (issue 20).
 */
async function ensureAuditLog(stateDir: string): Promise<void> {
  const file = auditPaths(stateDir).log;
  ensurePrivateDirNow(stateDir);
  if (!checkPrivateFileNow(file, 'audit log')) await touchPrivateFile(file, 'audit log');
}

/** The state key, read synchronously when it is there, made when it is not. */
async function auditKey(stateDir: string): Promise<StateKey> {
  return readStateKeyFileNow(stateDir) ?? ((await loadStateKey(stateDir, { create: true })) as StateKey);
}

interface Pending {
  record: AuditRecord;
  resolve: (entry: AuditEntry) => void;
  reject: (error: unknown) => void;
}

/** Records waiting to be written, per state dir: one lock and one fsync serve all that queued meanwhile. */
const queues = new Map<string, { waiting: Pending[]; flushing: boolean }>();

/**
 * Checks, before a write is sent to a panel, that its audit entry can be written afterwards: the
 * state dir private (touchPrivateFile checks the log's directory), the log not loosened, the state
 * key there. Otherwise the change would land unrecorded. Bulk asks for every step, 64 at a time:
 * callers share checks (coalesce), each still getting one that began after it asked.
 */
export const prepareAudit: (stateDir: string) => Promise<void> = coalesce(async (stateDir) => {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.audit.prepare();
  await ensureAuditLog(stateDir);
  await auditKey(stateDir);
});

/** Appends one record. Safe across processes (a file lock) and within one (bulk writes many at once). */

export function appendAudit(stateDir: string, record: AuditRecord): Promise<AuditEntry> {
  const q = queues.get(stateDir) ?? { waiting: [], flushing: false };
  queues.set(stateDir, q);
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
      const records = batch.map((p) => p.record);
      const shared = await sharedStore(stateDir);
      const entries = shared ? await shared.audit.appendBatch(records) : await writeBatch(stateDir, records);
      batch.forEach((p, i) => p.resolve(entries[i]));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
  queue.flushing = false;
}

/** proper-lockfile, imported once (an import() per batch went through the module loader's lookup every time). */
const loadLockfile = () => import('proper-lockfile');
let lockfileModule: ReturnType<typeof loadLockfile> | undefined;
function importLockfile(): ReturnType<typeof loadLockfile> {
  lockfileModule ??= loadLockfile();
  return lockfileModule;
}

async function writeBatch(stateDir: string, records: AuditRecord[]): Promise<AuditEntry[]> {
  const paths = auditPaths(stateDir);
  // The directory and the log as prepareAudit checks them (the lock needs the log to exist); the key is read under the lock below.
  await ensureAuditLog(stateDir);
  // The lock's mtime is refreshed while held; a writer killed with -9 leaves it stale after 4 s,
  // and the retries (about 8 s in all) outlast that, so the next writer waits instead of failing.
  // proper-lockfile (with graceful-fs, which patches fs when loaded) only when something is written: commands that read cost less.
  const { default: lockfile } = await importLockfile();
  // Locked under the log's real path (as proper-lockfile's own realpath option does), resolved in one call.
  const release = await lockfile.lock(realpathSync.native(paths.log), {
    realpath: false,
    retries: { retries: 40, minTimeout: 20, maxTimeout: 200 },
    stale: 4_000,
  });
  try {
    const key = await auditKey(stateDir);
    const written = readHead(paths.head);
    // No head yet: what the log holds must chain from the start (a writer cut off in the log's first write left it).
    // A damaged head is reported by `audit verify`; the chain goes on from the last entry.
    let head = written === 'malformed' ? await lastOfLog(stateDir) : (written ?? START);
    // Opened and checked again under the lock: the descriptor checked is the one read and written.
    const log = openAuditLog(stateDir);
    try {
      const after = afterHead(log, head);
      // A line cut off mid-write (power lost) holds no entry to keep: cut, so the log reads whole again.
      // Stryker disable next-line ConditionalExpression: cutting 0 bytes off the end changes nothing
      if (after.tornBytes) ftruncateSync(log, fstatSync(log).size - after.tornBytes);
      // Without a head, a log that does not chain from the start goes on from its last entry (verify reports it).
      if (!written && !after.adopt.length) head = await lastOfLog(stateDir);
      const entries: AuditEntry[] = [];
      let pending = records;
      if (after.adopt.length || after.tornBytes) {
        const details: Record<string, string | number> = {};
        if (after.adopt.length) {
          // Entries of a writer killed between the log's fsync and its head's rename: real writes; sign them, saying so.
          const last = after.adopt[after.adopt.length - 1];
          head = { seq: last.seq, hash: last.hash };
          Object.assign(details, { from: after.adopt[0].seq, to: last.seq, why: written ? RECOVERED_WHY : RECOVERED_UNHEADED_WHY });
        }
        if (after.tornBytes) Object.assign(details, { cutBytes: after.tornBytes, cut: CUT_WHY });
        pending = [{ operator: records[0].operator, panel: '', action: 'audit.recovered', outcome: 'ok', details }, ...records];
      }
      for (const record of pending) {
        const clean = JSON.parse(JSON.stringify(record)) as AuditRecord; // drops undefined; a Secret would mask itself anyway
        const unsigned = { v: 1 as const, seq: head.seq + 1, time: new Date().toISOString(), prev: head.hash, ...clean };
        const entry: AuditEntry = { ...unsigned, hash: hashOf(unsigned) };
        entries.push(entry);
        head = { seq: entry.seq, hash: entry.hash };
      }
      if (!key.auditStarted) await key.markAuditStarted();
      // A whole last line without its newline is ended first, so the next entry is not glued onto it.
      appendNow(log, `${after.unended ? '\n' : ''}${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
      // The log's fsync and the new head's run together (one wait for the disk instead of two); the
      // head takes its name only once the lines it names are on disk, as when they ran in turn.
      await replacePrivateFileNow(paths.head, JSON.stringify(signHead(key, head)), 'audit head', { after: syncNow(log), slots: true });
      return entries.slice(entries.length - records.length);
    } finally {
      closeSync(log);
    }
  } finally {
    await release();
  }
}

export const RECOVERED_WHY = 'on disk after the signed head: a writer was cut off between syncing the log and signing its head';
export const RECOVERED_UNHEADED_WHY =
  "on disk with no signed head: a writer was cut off in the log's first write, before signing its first head (or the head file was removed)";
export const CUT_WHY = 'the log ended in a line cut off mid-write (no newline, not JSON): those bytes were cut';

/** Where a log with no head begins: its first entry follows this. */
const START = { seq: 0, hash: GENESIS };

/** How much of the log's end is read at a time to find what follows the head (a batch's entries are well under 1 KiB each). */
const TAIL_CHUNK = 4 << 10;

/** What a writer finds after the head (afterHead). */
interface Tail {
  /** Entries that chain exactly from the head, the whole rest of the log; otherwise none (`audit verify` reports what is there). */
  adopt: AuditEntry[];
  /** Bytes after the last newline that are not JSON: a line cut off mid-write. */
  tornBytes: number;
  /** The log ends with a whole line (JSON) but no newline. */
  unended: boolean;
}

/**
 * What the log holds after the entry the head names, read backwards from the log's end (a bulk apply
 * writes thousands of batches: each reads a few KiB, not the log). A head at the START (none signed
 * yet) is followed by the whole log. A last line without its newline is torn when it is not JSON (left
 * out: the writer cuts it); otherwise it is judged with the rest (an entry, or a line that breaks the chain).
 */
function afterHead(fd: number, head: { seq: number; hash: string }): Tail {
  const size = fstatSync(fd).size;
  let bytes = Buffer.alloc(0);
  for (let start = size; ; ) {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: at the file's start the read would be of 0 bytes
    if (start > 0) {
      // Twice as much each time round, so a long cut-off tail costs reads linear in its length.
      const from = Math.max(0, start - Math.max(TAIL_CHUNK, bytes.length));
      const chunk = Buffer.alloc(start - from);
      // Under the lock the log only grows, so the bytes asked for are there.
      readSync(fd, chunk, 0, chunk.length, from);
      bytes = Buffer.concat([chunk, bytes]);
      start = from;
    }
    const lastLineAt = bytes.lastIndexOf(0x0a) + 1;
    // The last line begins before what was read: read on. (Reading on more than needed, or not, costs reads only: a
    // last line not yet in sight leaves nothing to judge, and the next round sees it whole.)
    // Stryker disable next-line ConditionalExpression,EqualityOperator: see above
    if (lastLineAt === 0 && start > 0) continue;
    const lastLine = bytes.subarray(lastLineAt).toString('utf8');
    // A line cut off mid-write is never JSON (a strict prefix of an object); JSON that is not an entry is judged below.
    const tornBytes = lastLine.trim() && parseLine(lastLine, 0).malformed === NOT_JSON ? bytes.length - lastLineAt : 0;
    const ends = (adopt: AuditEntry[]): Tail => ({ adopt, tornBytes, unended: !tornBytes && lastLineAt < bytes.length });
    const raw = bytes
      .subarray(0, bytes.length - tornBytes)
      .toString('utf8')
      .split('\n');
    // The first piece may be the end of a line that starts before what was read.
    if (start > 0) raw.shift();
    const later: AuditEntry[] = [];
    for (const text of raw.reverse()) {
      if (!text.trim()) continue; // as parseLog skips it
      const { entry } = parseLine(text, 0);
      if (!entry) return ends([]);
      // Back at the head's own entry, or at something else where it should be.
      if (entry.seq <= head.seq) return ends(entry.hash === head.hash ? chainsFrom(head, later) : []);
      later.unshift(entry);
    }
    // The whole log read without meeting the head's entry: it follows the head only when that is the START.
    if (start === 0) return ends(head.seq === START.seq ? chainsFrom(head, later) : []);
  }
}

/** `entries` when each follows the one before, starting right after `head`, its hash its own; otherwise none. */
function chainsFrom(head: { seq: number; hash: string }, entries: AuditEntry[]): AuditEntry[] {
  let prev = head;
  for (const entry of entries) {
    const { hash, ...unsigned } = entry;
    if (entry.seq !== prev.seq + 1 || entry.prev !== prev.hash || hashOf(unsigned) !== hash) return [];
    prev = entry;
  }
  return entries;
}

/** Where the chain continues when there is no head to go by. */
async function lastOfLog(stateDir: string): Promise<{ seq: number; hash: string }> {
  // The last line that is an entry: a damaged line after it must not restart the sequence at 1.
  const last = parseLog(await readLogText(stateDir))
    .filter((line) => line.entry)
    .at(-1)?.entry;
  return last ? { seq: last.seq, hash: last.hash } : START;
}

async function readLogText(stateDir: string): Promise<string | undefined> {
  return readPrivateStateFile(auditPaths(stateDir).log, 'audit log', 512 << 20);
}

export interface LogLine {
  line: number;
  entry?: AuditEntry;
  /** Why the line is not an audit entry. */
  malformed?: string;
}

const isHex64 = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Splits the log into lines; a line that is not an entry (not JSON, `null`, missing fields) is malformed. */
function parseLog(text: string | undefined): LogLine[] {
  const lines: LogLine[] = [];
  (text ?? '').split('\n').forEach((raw, index) => {
    if (raw.trim()) lines.push(parseLine(raw, index + 1));
  });
  return lines;
}

const NOT_JSON = 'line is not valid JSON';

function parseLine(raw: string, line: number): LogLine {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { line, malformed: NOT_JSON };
  }
  const e = value as AuditEntry;
  if (
    !e ||
    typeof e !== 'object' ||
    Array.isArray(e) ||
    e.v !== 1 ||
    !Number.isInteger(e.seq) ||
    !isHex64(e.prev) ||
    !isHex64(e.hash) ||
    typeof e.time !== 'string'
  ) {
    return { line, malformed: 'line is not an audit entry' };
  }
  return { line, entry: e };
}

/** Raised when the log cannot be read as a log: tampering, exit 5 like a failed verify. */
export class AuditBrokenError extends PanelctlError {
  constructor(message: string) {
    super(ExitCode.protocol, 'E_AUDIT_BROKEN', message, { hint: 'run `panelctl audit verify` for every problem found' });
  }
}

/**
 * The entries that pass `filter`, in order (a shared store filters in the database). A line that
 * is not an entry is tampering: AuditBrokenError (exit 5).
 */
export async function readAudit(stateDir: string, filter: AuditFilter = {}): Promise<AuditEntry[]> {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.audit.read(filter);
  return readAuditFiles(stateDir, filter);
}

/** The entries of this state dir's own log file (also what `state import` moves into a shared store). */
export async function readAuditFiles(stateDir: string, filter: AuditFilter = {}): Promise<AuditEntry[]> {
  const lines = parseLog(await readLogText(stateDir));
  const bad = lines.find((l) => l.malformed);
  if (bad) throw new AuditBrokenError(`the audit log is not intact: line ${bad.line}: ${bad.malformed}`);
  return filterEntries(
    lines.map((l) => l.entry as AuditEntry),
    filter,
  );
}

export function filterEntries(entries: AuditEntry[], filter: AuditFilter): AuditEntry[] {
  const { panel, operator, since, limit } = filter;
  let found = entries;
  if (panel !== undefined) found = found.filter((e) => e.panel === panel);
  if (operator !== undefined) found = found.filter((e) => e.operator === operator);
  if (since !== undefined) found = found.filter((e) => Date.parse(e.time) >= since);
  return limit !== undefined ? found.slice(-limit) : found;
}

export interface AuditProblem {
  line: number;
  problem: string;
}

/** Walks the chain and checks the signed head; returns every break found (empty means intact). */
export async function verifyAudit(stateDir: string): Promise<AuditVerification> {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.audit.verify();
  return verifyAuditFiles(stateDir);
}

export interface AuditVerification {
  entries: number;
  problems: AuditProblem[];
  /**
   * Entries that chain exactly after the signed head but are not signed yet: a writer was cut off between
   * the log's fsync and its head's rename. Not a break (the next write signs them with an audit.recovered entry).
   */
  unsigned?: { from: number; to: number };
}

/** Verifies this state dir's own log file (also what `state import` checks before moving it). */
export async function verifyAuditFiles(stateDir: string): Promise<AuditVerification> {
  const lines = parseLog(await readLogText(stateDir));
  const { problems, end } = chainProblems(lines);
  const last = lines.length ? lines[lines.length - 1].line : 0;
  const atHead = await headProblems(stateDir, end, last);
  // What the next writer adopts (writeBatch): a torn last line is no entry, so it is among the problems and nothing is.
  const signed = problems.length === 0 && atHead.length === 1 && atHead[0].signedEnd;
  if (signed && lines.some(({ entry }) => entry?.seq === signed.seq && entry.hash === signed.hash)) {
    return { entries: lines.length, problems, unsigned: { from: signed.seq + 1, to: end.seq } };
  }
  problems.push(...atHead.map(({ line, problem }) => ({ line, problem })));
  return { entries: lines.length, problems };
}

/** Walks a chain (lines of a file, or rows numbered by seq) and returns every break, and where it ends. */
export function chainProblems(lines: LogLine[]): { problems: AuditProblem[]; end: { seq: number; hash: string } } {
  const problems: AuditProblem[] = [];
  let prev = GENESIS;
  let expectedSeq = 1;
  for (const { line, entry, malformed } of lines) {
    if (!entry) {
      problems.push({ line, problem: `${malformed} (the line was replaced or damaged)` });
      continue;
    }
    const { hash, ...unsigned } = entry;
    if (entry.seq !== expectedSeq)
      problems.push({ line, problem: `sequence ${entry.seq} where ${expectedSeq} was expected (an entry was removed or inserted)` });
    if (entry.prev !== prev) problems.push({ line, problem: 'does not follow the entry before it (an entry before it was changed or removed)' });
    if (hashOf(unsigned) !== hash) problems.push({ line, problem: 'content does not match its hash (the entry was edited)' });
    prev = hash;
    expectedSeq = entry.seq + 1;
  }
  return { problems, end: { seq: expectedSeq - 1, hash: prev } };
}

/** The head must exist once anything was written, be signed with this state dir's key, and name the last entry. */
async function headProblems(
  stateDir: string,
  end: { seq: number; hash: string },
  lastLine: number,
): Promise<Array<AuditProblem & { signedEnd?: { seq: number; hash: string } }>> {
  const key = await loadStateKey(stateDir, { create: false });
  const head = readHead(auditPaths(stateDir).head);
  const line = lastLine;
  if (head === undefined) {
    if (end.seq > 0) return [{ line, problem: 'the head file audit.head.json is missing (it records how many entries were written)' }];
    if (key?.auditStarted)
      return [{ line, problem: 'the audit log and its head are missing or empty, but the state key records that entries were written (they were deleted)' }];
    return [];
  }
  if (head === 'malformed') return [{ line, problem: 'the head file audit.head.json is not a head (it was replaced or damaged)' }];
  if (!key) {
    return [
      {
        line,
        problem:
          'there is no state key (state.key) to check the head with: it was deleted, or the log was written by a panelctl that did not sign its head yet (the next write signs it)',
      },
    ];
  }
  if (!head.mac || !key.verify('audit-head', headData(head), head.mac)) {
    return [{ line, problem: "the head is not signed with this state dir's key (it was rewritten or copied from elsewhere)" }];
  }
  if (head.seq !== end.seq || head.hash !== end.hash) {
    return [
      {
        line,
        problem: `the log ends at entry ${end.seq} but the signed head says ${head.seq} were written (entries were cut off the end or the last entry was replaced)`,
        // The head is genuine: it may name an entry followed by a cut-off writer's (verifyAuditFiles).
        signedEnd: { seq: head.seq, hash: head.hash },
      },
    ];
  }
  return [];
}
