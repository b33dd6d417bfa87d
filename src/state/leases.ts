import fs from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PanelRefusedError, UsageError } from '../core/errors.js';
import { ensurePrivateDir } from './private-files.js';
import { acquireLock } from './process-lock.js';
import { LOCKED, sharedStore } from './store.js';

export { LOCKED } from './store.js';

/**
 * A test-mode lease: the record that a panel (and its monitoring-station account) is on test.
 * One file per panel under <state>/leases, written before anything is switched and removed only
 * when both halves are off and the station has confirmed the stop, so a crash at any point
 * leaves a visible, overdue lease behind.
 */
export interface Lease {
  v: 1;
  id: string;
  panel: string;
  driver: string;
  account?: string;
  customer?: string;
  from: string;
  until: string;
  operator: string;
  ticket?: string;
  reason?: string;
  /** webhook, command, manual or none. */
  station: string;
  /**
   * The station may have the account on test: set before the start notice is sent (it may
   * arrive even if its answer does not), cleared only when the station confirmed the stop.
   */
  stationOnTest: boolean;
  /** The panel's own test mode: 'none' when the protocol has none. */
  panelTest: 'pending' | 'on' | 'off' | 'none';
  panelMode?: string;
  /** When the panel said its own test mode ends by itself. */
  panelEndsAt?: string;
  phase: 'starting' | 'active' | 'stopping';
  /** Why the last attempt to end it did not finish. */
  problem?: string;
  /** Each station notice of this lease, recorded before it is sent and after it is answered. */
  notices?: { start?: NoticeRecord; stop?: NoticeRecord };
  /** Kernel clock at the start, to see a wall clock that jumped since (clock-skew defence). */
  clock?: { bootId: string; uptime: number };
  /** How far the station's clock was from ours at the start (ms, station minus local). */
  stationSkewMs?: number;
  /** The machine that started it, as a shared store reports it (not stored in the lease itself). */
  host?: string;
}

export interface NoticeRecord {
  /**
   * sending: sent, no answer yet (a crash here means "maybe delivered");
   * confirmed: the station said yes; unanswered: no answer in time (maybe delivered);
   * refused: the station said no; reminded: a manual station's reminder, no person confirmed yet.
   */
  state: 'sending' | 'confirmed' | 'unanswered' | 'refused' | 'reminded';
  at: string;
  attempts: number;
  error?: string;
}

export function leasesDir(stateDir: string): string {
  return path.join(stateDir, 'leases');
}

function leaseFile(stateDir: string, panel: string): string {
  // Inventory names are already file-safe; ad hoc names are refused before a lease is made.
  return path.join(leasesDir(stateDir), `${encodeURIComponent(panel)}.json`);
}

// Stryker disable next-line ConditionalExpression,StringLiteral: false either way on Linux, where the tests run; the Windows path cannot run there
const isWindows = process.platform === 'win32';

/**
 * Reads a lease through one descriptor opened without following links, and trusts it only if
 * that descriptor is a regular file owned by the caller, private (no group/other bits) and with
 * one name: a lease planted by someone else could make a sweep notify a station (issue 14, 11).
 */
function readLeaseFile(file: string): Lease | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (isWindows ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw untrusted(file, 'is a symbolic link');
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw untrusted(file, 'is not a regular file');
    // Stryker disable next-line ConditionalExpression: true either way on Linux, where the tests run
    if (!isWindows) {
      // Stryker disable next-line OptionalChaining: getuid exists on every POSIX system; absent only on Windows
      const uid = process.getuid?.();
      // Stryker disable next-line ConditionalExpression,EqualityOperator: getuid always answers on POSIX, so uid is never undefined there
      if (uid !== undefined && stat.uid !== uid) throw untrusted(file, `belongs to uid ${stat.uid}, not to you (uid ${uid})`);
      if (stat.mode & 0o077) throw untrusted(file, `is accessible by other users (mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')})`);
      if (stat.nlink !== 1) throw untrusted(file, `has ${stat.nlink} names (hard links)`);
    }
    return JSON.parse(readFileSync(fd, 'utf8')) as Lease;
  } finally {
    closeSync(fd);
  }
}

function untrusted(file: string, why: string): UsageError {
  return new UsageError(`lease file ${file} ${why}; panelctl does not trust it`, {
    code: 'E_PERMISSIONS',
    hint: 'panelctl writes its leases itself, 0600 and owned by you: look at who put this file there, then remove it',
    data: { file },
  });
}

export async function readLease(stateDir: string, panel: string): Promise<Lease | undefined> {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.leases.read(panel);
  return readLeaseFile(leaseFile(stateDir, panel));
}

/** Atomic (a private temp file, then rename), 0600, never through a link. */
export async function writeLease(stateDir: string, lease: Lease): Promise<void> {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.leases.write(lease);
  await ensurePrivateDir(leasesDir(stateDir));
  const file = leaseFile(stateDir, lease.panel);
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (isWindows ? 0 : constants.O_NOFOLLOW), 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(lease, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, file);
}

export async function removeLease(stateDir: string, panel: string): Promise<void> {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.leases.remove(panel);
  await fs.rm(leaseFile(stateDir, panel), { force: true });
}

/**
 * Every lease on file. Reads the state dir only, synchronously: a thousand small files read in a
 * loop take a few milliseconds, where a thousand parallel promise reads queue on the thread pool.
 * A lease file that is not trustworthy stops the listing with an error naming it.
 */
export async function listLeases(stateDir: string): Promise<Lease[]> {
  const shared = await sharedStore(stateDir);
  if (shared) return shared.leases.list();
  return listLeaseFiles(stateDir);
}

/** The leases in this state dir's files (also what `state import` moves into a shared store). */
export async function listLeaseFiles(stateDir: string): Promise<Lease[]> {
  let names: string[];
  try {
    names = readdirSync(leasesDir(stateDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const leases: Lease[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    let lease: Lease | undefined;
    try {
      lease = readLeaseFile(path.join(leasesDir(stateDir), name));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      // half-written by a crash of an older version: skip
    }
    if (lease) leases.push(lease);
  }
  return leases.sort((a, b) => a.until.localeCompare(b.until));
}

/** Past this difference between the wall clock and the kernel's, the wall clock is taken to have jumped. */
export const CLOCK_JUMP_MS = 30_000;

let cachedBootId: string | undefined | null = null;

/** Linux's id of this boot (the kernel clock below is only comparable within one boot). */
function bootId(): string | undefined {
  // Stryker disable next-line ConditionalExpression: only a cache; reading boot_id again gives the same answer
  if (cachedBootId !== null) return cachedBootId;
  // Stryker disable BlockStatement: Linux always has /proc, where the tests run; the fallback is for other systems
  try {
    cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    cachedBootId = undefined;
  }
  // Stryker restore BlockStatement
  return cachedBootId;
}

/** The kernel's clock at this moment, stored in a new lease. */
export function kernelClock(): Lease['clock'] {
  const id = bootId();
  return id ? { bootId: id, uptime: os.uptime() } : undefined;
}

/**
 * Milliseconds of the window that are left (negative when it is over). On the machine and boot
 * that started it, the elapsed time comes from the kernel's clock when the wall clock disagrees
 * with it by more than CLOCK_JUMP_MS, so a clock set hours ahead cannot end a fresh test at once.
 */
export function windowLeftMs(lease: Lease, now = Date.now()): number {
  const from = Date.parse(lease.from);
  const duration = Date.parse(lease.until) - from;
  let elapsed = now - from;
  if (lease.clock && lease.clock.bootId === bootId()) {
    const kernelElapsed = (os.uptime() - lease.clock.uptime) * 1000;
    if (Math.abs(kernelElapsed - elapsed) > CLOCK_JUMP_MS) elapsed = kernelElapsed;
  }
  return duration - elapsed;
}

/** Why a lease needs ending now: its window is over, or an end began and is not confirmed yet. */
export function overdueReason(lease: Lease, now = Date.now(), leftMs = windowLeftMs(lease, now)): 'window-over' | 'end-unconfirmed' | undefined {
  if (lease.phase === 'stopping') return 'end-unconfirmed';
  return leftMs <= 0 ? 'window-over' : undefined;
}

export function isOverdue(lease: Lease, now = Date.now()): boolean {
  return overdueReason(lease, now) !== undefined;
}

/**
 * Runs `work` holding this panel's lease lock, so start, stop and concurrent sweeps never act on
 * the same lease at once. `{ wait: false }` gives up at once when someone else holds it (sweep). The
 * lock dies with its process (see process-lock.ts): after a crash the next command goes straight on.
 */
export async function withLeaseLock<T>(stateDir: string, panel: string, options: { wait: boolean }, work: () => Promise<T>): Promise<T | typeof LOCKED> {
  const { wait } = options;
  const shared = await sharedStore(stateDir);
  if (shared) return shared.leases.withLock(panel, wait, work);
  await ensurePrivateDir(leasesDir(stateDir));
  const got = await acquireLock(`${leaseFile(stateDir, panel)}.lck`, { waitMs: wait ? 10_000 : 0 });
  if (typeof got !== 'function') {
    if (!wait) return LOCKED;
    const who = got.heldBy ? ` (pid ${got.heldBy.pid}, since ${got.heldBy.since})` : '';
    throw new PanelRefusedError('E_LEASE_BUSY', `another panelctl${who} is starting or stopping test mode on ${panel} right now`, {
      hint: 'wait for it to finish, then run `panelctl test-mode status`',
    });
  }
  try {
    return await work();
  } finally {
    await got().catch(() => undefined);
  }
}
