import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { PanelctlError, ExitCode } from '../core/errors.js';
import { ensurePrivateDir } from '../state/private-files.js';
import { shardSuffix, type Shard } from './shard.js';

/**
 * The journal of one apply of one plan (or one shard of it): a JSON line per event, made
 * durable before the run moves on. 'started' is written before a write is sent, 'done' or
 * 'failed' after; a step 'started' without an outcome was in flight when the run died.
 * Lines hold step ids, slots and error messages: never a code.
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
  /** done: how it was established ("written", "found on the panel after a restart"). */
  how?: string;
  error?: { code: string; message: string };
}

export function journalDir(stateDir: string, planId: string, shard?: Shard): string {
  return path.join(stateDir, 'bulk', `${planId}${shardSuffix(shard)}`);
}

/** What the journal says about each step: the last event, and whether it was ever started. */
export interface StepRecord {
  last: JournalEntry;
  started: boolean;
}

export async function readJournal(dir: string): Promise<Map<string, StepRecord>> {
  const steps = new Map<string, StepRecord>();
  let text = '';
  try {
    text = await fs.readFile(path.join(dir, 'journal.jsonl'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue; // a line cut short by a crash: its event never completed
    }
    const before = steps.get(entry.step);
    steps.set(entry.step, { last: entry, started: Boolean(before?.started) || entry.event === 'started' });
  }
  return steps;
}

/**
 * Appends with group commit: lines that arrive while an fsync is running are written and
 * synced together by the next one, so a hundred panels in parallel do not queue a hundred
 * fsyncs one after another.
 */
export class Journal {
  private queue: Array<{ line: string; done: (error?: Error) => void }> = [];
  private flushing = false;

  private constructor(private readonly handle: fs.FileHandle) {}

  static async open(dir: string): Promise<Journal> {
    await ensurePrivateDir(dir);
    return new Journal(await fs.open(path.join(dir, 'journal.jsonl'), 'a', 0o600));
  }

  append(entry: Omit<JournalEntry, 'time'>): Promise<void> {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`;
    return new Promise((resolve, reject) => {
      this.queue.push({ line, done: (error) => (error ? reject(error) : resolve()) });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.handle.appendFile(batch.map((b) => b.line).join(''));
        await this.handle.datasync();
        for (const b of batch) b.done();
      } catch (error) {
        for (const b of batch) b.done(error as Error);
      }
    }
    this.flushing = false;
  }

  async close(): Promise<void> {
    while (this.flushing || this.queue.length) await new Promise((r) => setTimeout(r, 5));
    await this.handle.close();
  }
}

interface Owner {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One apply per journal at a time. proper-lockfile keeps the lock fresh while we run and
 * treats it as stale 10 s after its holder stops refreshing (another host, or a hang); on
 * this host a holder killed with -9 is recognised at once by its process id being gone.
 */
export async function lockJournal(dir: string, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  await ensurePrivateDir(dir);
  const lockPath = path.join(dir, 'apply.lock');
  const ownerPath = path.join(dir, 'apply.owner.json');
  const take = () => lockfile.lock(dir, { lockfilePath: lockPath, realpath: false, stale: 10_000, onCompromised });
  let release: () => Promise<void>;
  try {
    release = await take();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await fs.readFile(ownerPath, 'utf8').then((t) => JSON.parse(t) as Owner).catch(() => undefined);
    if (owner && owner.host === os.hostname() && owner.pid !== process.pid && !alive(owner.pid)) {
      await fs.rm(lockPath, { recursive: true, force: true });
      release = await take();
    } else {
      const who = owner ? ` (process ${owner.pid} on ${owner.host}, since ${owner.since})` : '';
      throw new PanelctlError(ExitCode.usage, 'E_LOCKED', `another apply of this plan is running${who}; two at once are refused`, {
        hint: 'wait for it to finish, or check `panelctl bulk status PLAN`',
      });
    }
  }
  await fs.writeFile(ownerPath, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() } satisfies Owner), { mode: 0o600 });
  return async () => {
    await fs.rm(ownerPath, { force: true });
    await release();
  };
}

/** Whether an apply holds this journal now (for `bulk status`). */
export async function journalLocked(dir: string): Promise<boolean> {
  return lockfile.check(dir, { lockfilePath: path.join(dir, 'apply.lock'), realpath: false, stale: 10_000 }).catch(() => false);
}
