import fs from 'node:fs/promises';
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readFileSync, readdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A lock file that dies with its process. The file is created with O_EXCL and names its owner
 * (pid, the process's start time from /proc, host); a lock whose owner is gone, or whose pid now
 * belongs to a younger process, is broken at once instead of after a staleness timeout.
 *
 * Breaking is a rename to a private name followed by a check that the renamed file is the dead
 * owner's (not a lock someone else took meanwhile), so two processes breaking the same stale lock
 * cannot both end up holding it. Only works where all contenders share one machine (the state dir
 * is local; a lock from another host is never broken).
 *
 * Taking and releasing a lock are synchronous system calls, on purpose: a lock file is a few
 * hundred bytes in the page cache, never fsynced, so each call returns in microseconds. Through
 * the thread pool the same dozen calls cost ~0.4 ms of CPU per lock (a promise and a thread
 * round trip each, and bulk apply's 64 panels at once contending for one directory's lock in
 * the kernel): at 1,000 panels that was the engine's largest per-step cost (issue 20 profile).
 */

export interface LockOwner {
  /** What the holder is doing, for whoever finds the lock taken (command, operator, ticket, panel...). */
  [detail: string]: unknown;
  pid: number;
  /** Process start time in clock ticks since boot (Linux), to tell a reused pid from its owner. */
  start?: string;
  host: string;
  token: string;
  since: string;
}

export type Release = () => Promise<void>;

/** Linux: field 22 of /proc/<pid>/stat. Elsewhere undefined (pid liveness alone decides). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } /* Stryker disable next-line BlockStatement: an empty catch returns undefined all the same */ catch {
    return undefined;
  }
}

const ME: { pid: number; start?: string; host: string } = { pid: process.pid, start: processStartTime(process.pid), host: os.hostname() };

export function ownerIsGone(owner: LockOwner): boolean {
  if (owner.host !== ME.host) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  // Alive (or not ours to signal): still the same process only if it started when the owner did.
  if (owner.start === undefined) return false;
  const start = processStartTime(owner.pid);
  return start !== undefined && start !== owner.start;
}

export async function readOwner(file: string): Promise<LockOwner | undefined> {
  return readOwnerNow(file);
}

/** The owner a lock file names (not through a link), or undefined for a missing or garbled file. */
function readOwnerNow(file: string): LockOwner | undefined {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the name must not hang the process on open.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(fd, 'utf8')) as LockOwner;
  } /* Stryker disable next-line BlockStatement: an empty catch returns undefined all the same */ catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A creator that died between creating the file and writing its owner leaves it empty; after this long it is stale. */
const EMPTY_LOCK_STALE_MS = 5000;

/*
 * Spare lock files (LockOptions.reuseFiles). Bulk apply takes and frees one panel's work lock after
 * another, 10,000 in a run. Creating a file per lock allocates an inode each time, and ext4 without
 * a journal skips every inode freed in the last 30 s when it allocates the next (recently_deleted()),
 * so each lock cost more than the one before: at 10,000 panels the kernel spent more on that than the
 * apply on anything else (perf, issue 20). Instead such a lock is taken by writing the owner into one of
 * this process's spare files and hard-linking it to the lock's name: link() fails with EEXIST as
 * O_EXCL does, allocates no inode, and what others read at the name is the owner, as before. Released,
 * the name is unlinked and the spare waits for the next lock. Spares are named
 * `.spare-<pid>-<start>-<n>` (never `.lock`: nothing takes one for a lock), removed when the process
 * exits, and a dead process's are removed by the next process that takes a lock there (the state dir
 * is this machine's, as above).
 */

const SPARE = '.spare-';
const spares = { free: new Map<string, string[]>(), all: new Set<string>(), swept: new Set<string>(), made: 0, atExit: false };
/** How long each spare's content is: a shorter owner is padded with spaces (JSON allows them) instead of truncating the file. */
const spareSizes = new Map<string, number>();
/** Each spare's inode: a lock name that is this inode is this process's lock (a spare keeps its own name, so no other file has it). */
const spareInodes = new Map<string, number>();

/** Removes this process's spares (at exit; a lock still held keeps its name, and is stale once the process is gone). */
export function removeSpares(): void {
  for (const spare of spares.all) {
    try {
      unlinkSync(spare);
    } catch {
      // already gone
    }
  }
  spares.all.clear();
  spares.free.clear();
  spareSizes.clear();
  spareInodes.clear();
}

/** Removes the spares that processes of this host left behind when they died (kill -9). */
function sweepDeadSpares(dir: string): void {
  for (const name of readdirSync(dir)) {
    const [pid, start] = name.startsWith(SPARE) ? name.slice(SPARE.length).split('-') : [];
    if (pid === undefined) continue;
    // Without a start time (not Linux) only a pid that is gone says its process died.
    if (ownerIsGone({ pid: Number(pid), start: start === 'x' ? undefined : start, host: ME.host, token: '', since: '' })) {
      try {
        unlinkSync(path.join(dir, name));
      } catch {
        // another process swept it first
      }
    }
  }
}

/** A spare of this process in `dir` (not linked anywhere), made when none is free. */
function takeSpare(dir: string): string {
  if (!spares.swept.has(dir)) {
    spares.swept.add(dir);
    sweepDeadSpares(dir);
  }
  const free = spares.free.get(dir);
  const spare = free?.pop();
  if (spare) return spare;
  if (!spares.atExit) {
    spares.atExit = true;
    process.once('exit', removeSpares);
  }
  const made = path.join(dir, `${SPARE}${process.pid}-${ME.start ?? 'x'}-${++spares.made}`);
  const fd = openSync(made, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  spareInodes.set(made, fstatSync(fd).ino); // on a descriptor just opened: nothing to fail
  closeSync(fd);
  spares.all.add(made);
  return made;
}

function giveBackSpare(spare: string): void {
  const dir = path.dirname(spare);
  const free = spares.free.get(dir) ?? [];
  spares.free.set(dir, free);
  free.push(spare);
}

/**
 * Writes `text` over a spare's content: no new inode, and no truncation (freeing the file's block
 * and taking another cost as much again): a shorter owner is padded with spaces.
 */
function writeSpare(spare: string, text: string): void {
  const bytes = Buffer.from(text);
  const size = spareSizes.get(spare) ?? 0;
  const padded = bytes.length < size ? Buffer.concat([bytes, Buffer.alloc(size - bytes.length, ' ')]) : bytes;
  const fd = openSync(spare, constants.O_WRONLY | constants.O_NOFOLLOW);
  try {
    writeFileSync(fd, padded);
  } finally {
    closeSync(fd);
  }
  spareSizes.set(spare, padded.length);
}

/** tryCreate with a spare: the spare linked to `file`, or undefined when the lock is taken. */
function tryLinkSpare(file: string, owner: LockOwner): string | undefined {
  let spare = takeSpare(path.dirname(file));
  try {
    writeSpare(spare, JSON.stringify(owner));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Removed by someone else (a sweep that took this process for dead): a new one.
    spares.all.delete(spare);
    spareInodes.delete(spare);
    spareSizes.delete(spare);
    spare = takeSpare(path.dirname(file));
    writeSpare(spare, JSON.stringify(owner));
  }
  try {
    linkSync(spare, file);
    return spare;
  } catch (error) {
    giveBackSpare(spare);
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
}

function tryCreate(file: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes `file` if it is still the stale lock `seen` describes; true when it is gone.
 * Breaking is serialised by a second O_EXCL file: two contenders that both saw the same dead
 * owner must not both remove "the" lock, or the second would remove the first one's fresh lock
 * and two processes would hold it at once. Under the breaker the lock is read again; it cannot
 * change meanwhile (its owner is dead, and nobody creates over an existing file).
 */
async function breakIfStale(file: string, seen: LockOwner | undefined): Promise<boolean> {
  if (seen && !ownerIsGone(seen)) return false;
  if (!seen) {
    if (!(await fs.lstat(file).catch(() => undefined))) return true; // released meanwhile
    if (!(await emptyAndOld(file))) return false;
  }
  const breaker = `${file}.break`;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(breaker, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A breaker that died mid-break leaves its file; after a while anyone may clear it.
    if (await emptyAndOld(breaker)) await fs.rm(breaker, { force: true });
    return false;
  }
  try {
    await handle.close();
    // Under the breaker, read again: still the dead owner's lock, or still an old lock with no owner in it?
    const same = seen ? (await readOwner(file))?.token === seen.token : await emptyAndOld(file);
    if (!same) return !(await fs.lstat(file).catch(() => undefined));
    await fs.rm(file, { force: true });
    return true;
  } finally {
    await fs.rm(breaker, { force: true });
  }
}

/** A lock file with no owner written in it (its creator died at once), old enough to be stale. */
async function emptyAndOld(file: string): Promise<boolean> {
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat) return false;
  return Date.now() - stat.mtimeMs >= EMPTY_LOCK_STALE_MS && (await readOwner(file)) === undefined;
}

export interface LockOptions {
  /** How long to keep trying while a live process holds it; 0 gives up at once. */
  waitMs: number;
  /** Written into the lock file beside the owner, so a refused process can name what holds it. */
  details?: Record<string, unknown>;
  /** Take the lock by linking a spare file of this process's (see above): for locks taken by the thousand. */
  reuseFiles?: boolean;
}

let tokensMade = 0;

/**
 * 24 hex digits that tell one owner record from every other. Not a secret (it is written in the lock file), only
 * unique: the pid (no two live processes on one host share it), a count (no two records of one process share it)
 * and 48 random bits (a reused pid, another host). Made without node:crypto, whose loading cost ~1.5 ms of CPU on
 * the way of every command that takes a lock (issue 20).
 */
function freshToken(): string {
  const pid = (process.pid >>> 0).toString(16).padStart(8, '0');
  const count = (++tokensMade & 0xffff).toString(16).padStart(4, '0');
  return `${pid}${count}${Math.floor(Math.random() * 2 ** 48)
    .toString(16)
    .padStart(12, '0')}`;
}

/** A lock owner for this process (also for records that are not locks, such as bulk's claims). */
export function ownerForThisProcess(details: Record<string, unknown> = {}): LockOwner {
  return { ...details, ...ME, token: freshToken(), since: new Date().toISOString() };
}

/** Takes the lock, or returns the live holder when it cannot within `waitMs`. */
export async function acquireLock(file: string, options: LockOptions): Promise<Release | { heldBy: LockOwner | undefined }> {
  const owner = ownerForThisProcess(options.details);
  const end = Date.now() + options.waitMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
    const spare = options.reuseFiles ? tryLinkSpare(file, owner) : undefined;
    if (spare || (!options.reuseFiles && tryCreate(file, owner))) {
      const inode = spare && spareInodes.get(spare);
      let released = false;
      return async () => {
        // Twice would give the spare back twice, and two locks could then be written into one file.
        if (released) return;
        released = true;
        // Still ours: for a spare, the name is still its inode (one stat instead of opening and reading the lock, issue 20).
        if (spare ? lstatSync(file, { throwIfNoEntry: false })?.ino === inode : readOwnerNow(file)?.token === owner.token) {
          try {
            unlinkSync(file);
          } catch (error) {
            // Still linked to the name: the spare cannot be written again.
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          }
        }
        if (spare) giveBackSpare(spare);
      };
    }
    const seen = readOwnerNow(file);
    if (await breakIfStale(file, seen)) continue;
    if (Date.now() >= end) return { heldBy: seen };
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
