import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir } from '../state/private-files.js';
import { sharedStore, type SharedStore } from '../state/store.js';
import { shardSuffix, type Shard } from './shard.js';

/**
 * The journal of a plan: a JSON line per event, made durable before the run moves on.
 * 'started' is written before a write is sent, 'done' or 'failed' after; a step 'started'
 * without an outcome was in flight when the run died. Lines hold step ids, slots, error
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
 * Appends with group commit: lines that arrive while an fsync is running are written and
 * synced together by the next one, so a hundred panels in parallel do not queue a hundred
 * fsyncs one after another.
 */
interface JournalSink {
  write(entries: JournalEntry[]): Promise<void>;
  close(): Promise<void>;
}

export class Journal {
  private queue: Array<{ entry: JournalEntry; done: (error?: Error) => void }> = [];
  private flushing = false;

  private constructor(private readonly sink: JournalSink) {}

  /** The journal file of this run's shard, or with a shared store (team mode) the plan's rows there. */
  static async open(file: string): Promise<Journal> {
    const shared = await sharedPlan(path.dirname(file));
    if (shared) {
      const shard = path.basename(file, '.jsonl');
      return new Journal({ write: (entries) => shared.store.bulk.appendJournal(shared.plan, shard, entries), close: async () => undefined });
    }
    await ensurePrivateDir(path.dirname(file));
    const handle = await fs.open(file, 'a', 0o600);
    return new Journal({
      async write(entries) {
        await handle.appendFile(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
        await handle.datasync();
      },
      close: () => handle.close(),
    });
  }

  append(entry: Omit<JournalEntry, 'time'>): Promise<void> {
    const line = { time: new Date().toISOString(), ...entry } as JournalEntry;
    return new Promise((resolve, reject) => {
      this.queue.push({ entry: line, done: (error) => (error ? reject(error) : resolve()) });
      // Stryker disable next-line ConditionalExpression: a second flush loop loses only the group commit; readers order lines by time
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Stryker disable next-line BooleanLiteral: a second flush loop loses only the group commit; readers order lines by time
    this.flushing = true;
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.sink.write(batch.map((b) => b.entry));
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.done(error as Error);
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing || this.queue.length) await new Promise((r) => setTimeout(r, 5));
    await this.sink.close();
  }
}
