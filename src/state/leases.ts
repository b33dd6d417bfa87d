import fs from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { PanelRefusedError } from '../core/errors.js';
import { ensurePrivateDir, writePrivateFile } from './private-files.js';

/**
 * A test-mode lease: the record that a panel (and its monitoring-station account) is on test.
 * One file per panel under <state>/leases, written before anything is switched and removed only
 * when both halves are off, so a crash at any point leaves a visible, overdue lease behind.
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
  /** The station has been told "on test" and not yet "off test". */
  stationOnTest: boolean;
  /** The panel's own test mode: 'none' when the protocol has none. */
  panelTest: 'pending' | 'on' | 'off' | 'none';
  panelMode?: string;
  /** When the panel said its own test mode ends by itself. */
  panelEndsAt?: string;
  phase: 'starting' | 'active' | 'stopping';
  /** Why the last attempt to end it did not finish. */
  problem?: string;
}

export function leasesDir(stateDir: string): string {
  return path.join(stateDir, 'leases');
}

function leaseFile(stateDir: string, panel: string): string {
  // Inventory names are already file-safe; ad hoc names are refused before a lease is made.
  return path.join(leasesDir(stateDir), `${encodeURIComponent(panel)}.json`);
}

export async function readLease(stateDir: string, panel: string): Promise<Lease | undefined> {
  try {
    return JSON.parse(await fs.readFile(leaseFile(stateDir, panel), 'utf8')) as Lease;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeLease(stateDir: string, lease: Lease): Promise<void> {
  await writePrivateFile(leaseFile(stateDir, lease.panel), `${JSON.stringify(lease, null, 2)}\n`);
}

export async function removeLease(stateDir: string, panel: string): Promise<void> {
  await fs.rm(leaseFile(stateDir, panel), { force: true });
}

/**
 * Every lease on file. Reads the state dir only, synchronously: a thousand small files read in a
 * loop take a few milliseconds, where a thousand parallel promise reads queue on the thread pool.
 */
export async function listLeases(stateDir: string): Promise<Lease[]> {
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
    try {
      leases.push(JSON.parse(readFileSync(path.join(leasesDir(stateDir), name), 'utf8')) as Lease);
    } catch {
      // removed by a concurrent stop between readdir and read, or half-written by a crash: skip
    }
  }
  return leases.sort((a, b) => a.until.localeCompare(b.until));
}

export function isOverdue(lease: Lease, now = Date.now()): boolean {
  return Date.parse(lease.until) <= now;
}

/**
 * Runs `work` holding this panel's lease lock, so start, stop and concurrent sweeps never act on
 * the same lease at once. `wait: false` gives up at once when someone else holds it (sweep).
 */
export async function withLeaseLock<T>(stateDir: string, panel: string, wait: boolean, work: () => Promise<T>): Promise<T | typeof LOCKED> {
  await ensurePrivateDir(leasesDir(stateDir));
  const file = leaseFile(stateDir, panel);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      realpath: false,
      lockfilePath: `${file}.lock`,
      stale: 30_000,
      update: 5_000,
      retries: wait ? { retries: 40, minTimeout: 50, maxTimeout: 500 } : 0,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    if (!wait) return LOCKED;
    throw new PanelRefusedError('E_LEASE_BUSY', `another panelctl is starting or stopping test mode on ${panel} right now`, { hint: 'wait a moment and run `panelctl test-mode status`' });
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}

export const LOCKED = Symbol('locked');
