import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir } from '../state/private-files.js';
import { appendNow } from '../state/safe-file.js';
import { coalesce } from '../core/coalesce.js';
import { sharedStore, type SharedStore } from '../state/store.js';
import { shardSuffix, type Shard } from './shard.js';

/**
 * The journal of a plan: a JSON line per event. 'started' is made durable before a write is
 * sent, 'done' or 'failed' is written after (some only durable with the next sync: see Journal);
 * a step 'started' without an outcome was in flight when the run died. Lines hold step ids, slots, error
 * messages and the path of the codes file a drawn code was saved in: never a code.
 *
 * The journal belongs to the PLAN, not to a shard: one directory per plan, in which each run
 * appends to the file of its shard (one writer per file: overlapping runs are refused by the
 * claims in claims.ts), and every run reads all of them. So a step done under any shard
 * argument is done for every later run of that plan.
 */

export type JournalEvent = 'started' | 'done' | 'failed';

export interface JournalEntry {
  time: string;
  step: string;
  panel: string;
  event: JournalEvent;
  slot?: number;
  action?: string;
  attempt?: number;
  /** done: how it was established ("written", "found on the panel"). */
  how?: string;
  error?: { code: string; message: string };
  /** started: the --codes-out file where this step's drawn code was saved before it was sent. */
  codesFile?: string;
}

/** The directory of one plan's journals, claims and locks. */
export function planDir(stateDir: string, planId: string): string {
  return path.join(stateDir, 'bulk', planId);
}

/**
 * The shared store that holds this plan directory's journal and claims (team mode), with the plan's
 * id: a plan directory is always planDir(stateDir, id), so the directory names both.
 */
export async function sharedPlan(dir: string): Promise<{ store: SharedStore; plan: string } | undefined> {
  const store = await sharedStore(path.dirname(path.dirname(dir)));
  return store ? { store, plan: path.basename(dir) } : undefined;
}

/** The file this run appends to: one per shard argument, in the plan's directory. */
export function journalFile(dir: string, shard?: Shard): string {
  return path.join(dir, `journal${shardSuffix(shard)}.jsonl`);
}

/** What the journals say about each step: the last event, and whether it was ever started. */
export interface StepRecord {
  last: JournalEntry;
  started: boolean;
  /** Where its drawn code was saved, if a run saved one before sending it. */
  codesFile?: string;
}

/** Every journal file of the plan, merged in time order (a step may have entries in several). */
export async function readJournal(dir: string): Promise<Map<string, StepRecord>> {
  const shared = await sharedPlan(dir);
  return mergeJournal(shared ? await shared.store.bulk.readJournal(shared.plan) : await readJournalFiles(dir));
}

/** The journal lines of a plan directory's files (also what `state import` moves into a shared store). */
export async function readJournalFiles(dir: string): Promise<JournalEntry[]> {
  const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const entries: JournalEntry[] = [];
  // Stryker disable next-line MethodExpression: libuv's scandir already lists names sorted; the sort keeps that from being relied on
  for (const name of names.filter((n) => /^journal.*\.jsonl$/.test(n)).sort()) {
    const text = await fs.readFile(path.join(dir, name), 'utf8');
    for (const line of text.split('\n')) {
      // Stryker disable next-line ConditionalExpression,MethodExpression: a blank line would fail JSON.parse below and be skipped there too
      if (!line.trim()) continue;
      try {
        entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        // a line cut short by a crash: its event never completed
      }
    }
  }
  return entries;
}

function mergeJournal(entries: JournalEntry[]): Map<string, StepRecord> {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: V8's sort only asks whether the comparator is below zero
  entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const steps = new Map<string, StepRecord>();
  for (const entry of entries) {
    const before = steps.get(entry.step);
    steps.set(entry.step, { last: entry, started: Boolean(before?.started) || entry.event === 'started', codesFile: entry.codesFile ?? before?.codesFile });
  }
  return steps;
}

/**
 * Where the lines go: a file of this run's shard, or a shared store's table. `write` puts lines
 * where every reader sees them (the file's page cache: a process killed with -9 keeps them);
 * `sync` makes everything written so far survive a crash of the machine.
 */
interface JournalSink {
  write(entries: JournalEntry[]): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Appends in order, in groups: lines that arrive while a write is under way go out together in
 * the next one, and the syncs that durable lines wait for are shared the same way.
 *
 * What is made durable when (issue 20; checked by the crash-consistency bench and
 * test/bulk/journal-durability.test.ts):
 * - A durable line (the default, and always 'started') is on disk (fdatasync) before append()
 *   resolves. 'started' is, before the write it announces is sent: however the run dies, a write
 *   that may have landed is on record, and --resume asks the panel before writing anything again.
 * - A line appended with `durable: false` resolves once written. Every reader, and a resume after
 *   kill -9, sees it at once (the page cache); it reaches the disk with the next sync, which the
 *   next durable line or close() makes (fdatasync covers every byte written before it). So a
 *   crash of the MACHINE can lose only such lines written after the last sync. The engine passes
 *   it only where losing the line changes nothing a resume cannot settle by asking the panel:
 *   'failed' (a started step is asked about anyway; one never started is tried again) and a 'done'
 *   the panel can prove on resume (settle.ts settlesByAsking: it is found, recorded as done, and
 *   not written again). A 'done' that would leave a person to check (DSC set-code, a drawn code
 *   not saved) stays durable.
 * - The audit entry of a write is durable before its 'done' line is written (apply.ts awaits the
 *   audit first), so no 'done' can outlive the record of the write it closes.
 * For most steps: one fdatasync instead of two, and none between a proven write and the next step.
 */
export class Journal {
  private queue: Array<{ entry: JournalEntry; durable: boolean; done: (error?: Error) => void }> = [];
  private writing = false;
  /** Syncs in flight, so close() can wait for them. */
  private readonly syncs = new Set<Promise<void>>();
  private unsynced = false;
  /** A sync that starts after the call: shared by every durable line written before it starts. */
  private readonly syncWritten = coalesce(() => {
    this.unsynced = false;
    return this.sink.sync();
  });

  private constructor(private readonly sink: JournalSink) {}

  /** The journal file of this run's shard, or with a shared store (team mode) the plan's rows there. */
  static async open(file: string): Promise<Journal> {
    const shared = await sharedPlan(path.dirname(file));
    if (shared) {
      const shard = path.basename(file, '.jsonl');
      // Each appendJournal is a committed transaction: durable once written.
      return new Journal({
        write: (entries) => shared.store.bulk.appendJournal(shared.plan, shard, entries),
        sync: async () => undefined,
        close: async () => undefined,
      });
    }
    await ensurePrivateDir(path.dirname(file));
    const handle = await fs.open(file, 'a', 0o600);
    return new Journal({
      // A direct write: lines go to the page cache in microseconds, where a thread-pool round trip
      // cost ten times the CPU (issue 20, two lines per step). Only the sync waits for the disk.
      async write(entries) {
        // A closed handle's fd is -1; its old number may be another file's by now, so it is never reused.
        if (handle.fd < 0) throw Object.assign(new Error(`EBADF: the journal ${file} is closed`), { code: 'EBADF' });
        appendNow(handle.fd, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      },
      sync: () => handle.datasync(),
      close: () => handle.close(),
    });
  }

  append(entry: Omit<JournalEntry, 'time'>, options: { durable?: boolean } = {}): Promise<void> {
    const line = { time: new Date().toISOString(), ...entry } as JournalEntry;
    // 'started' is always durable: the write it announces may be sent as soon as this resolves.
    const durable = options.durable !== false || entry.event === 'started';
    return new Promise((resolve, reject) => {
      this.queue.push({ entry: line, durable, done: (error) => (error ? reject(error) : resolve()) });
      // Stryker disable next-line ConditionalExpression: a second write loop loses only the grouping; readers order lines by time
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Stryker disable next-line BooleanLiteral: a second write loop loses only the grouping; readers order lines by time
    this.writing = true;
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.sink.write(batch.map((b) => b.entry));
      } catch (error) {
        for (const b of batch) b.done(error as Error);
        continue;
      }
      this.unsynced = true;
      const durable = batch.filter((b) => b.durable);
      for (const b of batch) if (!b.durable) b.done();
      if (durable.length) this.track(this.syncWritten(''), durable);
    }
    this.writing = false;
  }

  private track(sync: Promise<void>, waiting: Array<{ done: (error?: Error) => void }>): void {
    const settled = sync.then(
      () => waiting.forEach((b) => b.done()),
      (error: Error) => waiting.forEach((b) => b.done(error)),
    );
    this.syncs.add(settled);
    void settled.finally(() => this.syncs.delete(settled));
  }

  /** Writes what is queued, makes every line durable, and closes the file. */
  async close(): Promise<void> {
    while (this.writing || this.queue.length || this.syncs.size) {
      if (this.syncs.size) await Promise.all(this.syncs);
      else await new Promise((r) => setTimeout(r, 5));
    }
    try {
      if (this.unsynced) await this.syncWritten('');
    } finally {
      await this.sink.close();
    }
  }
}
