import path from 'node:path';
import { PanelctlError, ExitCode } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { localTime } from '../output/time.js';
import { ensurePrivateDirNow } from './private-files.js';
import { readContactNow, writeContact } from './panel-contact.js';
import { acquireLock, type LockOwner } from './process-lock.js';
import type { Lease } from './leases.js';
import { sharedStore } from './store.js';

/**
 * Per-panel work locks: while any panelctl command talks to a panel it holds that panel's lock,
 * so two processes never write one panel at once (a Modbus device serves several clients, and
 * two plans on one slot would both "succeed"). A second process is refused at once with exit 4
 * naming the holder. The interface is small so that a shared store (team mode: a PostgreSQL
 * advisory lock plus a visible row) can stand in for the files implementation below.
 */

export interface WorkHolder {
  /** The panel's name, as the holder calls it. */
  panel: string;
  command?: string;
  operator?: string;
  ticket?: string;
  /**
   * A shared store reads the panel's active lease in the statement that takes the lock (one round
   * trip) and hands it here, for the ON TEST warning; the files store does not call it.
   */
  onLease?: (lease: Lease | undefined) => void | Promise<void>;
}

export interface WorkLock {
  /**
   * When the panel last answered a panelctl session, as this machine's wall-clock ms, if recorded (for
   * a driver's pacing: OpenOptions.lastContactAt).
   */
  lastContactAt?: number;
  /** Until when the panel asked to be left alone, as this machine's wall-clock ms, if recorded (OpenOptions.quietUntil). */
  quietUntil?: number;
  /**
   * Lets go; `lastContactAt` and `quietUntil` (the session's PanelSession.lastContactAt and quietUntil) are
   * kept for the next holder. A note without either leaves what was recorded as it was.
   */
  release(note?: { lastContactAt?: number; quietUntil?: number }): Promise<void>;
}

export interface WorkLockStore {
  /** Takes the lock for `key` (one physical panel) or throws E_PANEL_LOCKED (exit 4) naming the holder. */
  acquire(key: string, holder: WorkHolder): Promise<WorkLock>;
}

export function lockedError(panel: string, holder: Partial<LockOwner>): PanelctlError {
  if (holder.pid === undefined) {
    return new PanelctlError(ExitCode.unreachable, 'E_PANEL_LOCKED', `${panel} is being locked by another panelctl process right now`, {
      hint: 'run this again in a moment; panelctl never writes one panel from two processes at once',
    });
  }
  const who = [holder.command ? `"${String(holder.command)}"` : 'a command', `process ${holder.pid}`];
  if (holder.host) who.push(`on ${holder.host}`);
  if (holder.operator) who.push(`by ${holder.operator}`);
  if (holder.ticket) who.push(`ticket ${holder.ticket}`);
  const since = holder.since ? `, since ${localTime(String(holder.since))}` : '';
  return new PanelctlError(ExitCode.unreachable, 'E_PANEL_LOCKED', `${panel} is in use by another panelctl: ${who.join(', ')}${since}`, {
    hint: 'wait until it has finished, then run this again; panelctl never writes one panel from two processes at once',
    data: {
      holder: {
        command: holder.command,
        pid: holder.pid,
        host: holder.host,
        operator: holder.operator,
        ticket: holder.ticket,
        since: holder.since,
        panel: holder.panel,
      },
    },
  });
}

/** The files implementation: one lock file per panel under <state>/locks/panels/. */
export class FileWorkLocks implements WorkLockStore {
  constructor(private readonly stateDir: string) {}

  file(key: string): string {
    // SHA-256 as node:crypto makes it (same names, so versions share locks) without loading node:crypto (issue 20).
    const digest = sha256Hex(key).slice(0, 24);
    return path.join(this.stateDir, 'locks', 'panels', `${digest}.lock`);
  }

  async acquire(key: string, holder: WorkHolder): Promise<WorkLock> {
    const file = this.file(key);
    ensurePrivateDirNow(path.dirname(file));
    // Linked from a spare file: a bulk apply takes thousands, and a new file each time cost an inode each (process-lock.ts).
    const taken = await acquireLock(file, { waitMs: 0, details: { ...holder, key }, reuseFiles: true });
    if (typeof taken !== 'function') throw lockedError(holder.panel, taken.heldBy ?? {});
    const contact = file.replace(/\.lock$/, '.contact');
    const recorded = readContactNow(contact);
    return {
      lastContactAt: recorded.lastContactAt,
      quietUntil: recorded.quietUntil,
      release: async (note) => {
        // Written while still holding the lock: the next holder reads it after taking it. A session that
        // never heard the panel keeps the last answer recorded before it; no quietUntil means none runs.
        if (note?.lastContactAt !== undefined || note?.quietUntil !== undefined) {
          await writeContact(contact, { lastContactAt: note.lastContactAt ?? recorded.lastContactAt, quietUntil: note.quietUntil });
        }
        await taken();
      },
    };
  }
}

/** The work locks of this state dir: the shared store's when one is configured, else the files. */
export function workLocksFor(stateDir: string): WorkLockStore {
  return {
    async acquire(key, holder) {
      const shared = await sharedStore(stateDir);
      return (shared?.workLocks ?? new FileWorkLocks(stateDir)).acquire(key, holder);
    },
  };
}

/** Commands that only read a panel: they still run while the shared store is down (on this machine's lock). */
export const READ_ONLY_COMMANDS = new Set(['users list', 'info', 'test-mode status']);

/**
 * For a read-only command: the shared lock when the store answers; when it cannot be reached, this
 * machine's file lock, after saying that the desk's view is missing. Commands that change a panel
 * never get this: without the shared lock and audit they refuse (exit 4).
 */
export function readOnlyWorkLocks(stateDir: string, warn: (text: string) => void): WorkLockStore {
  const shared = workLocksFor(stateDir);
  return {
    async acquire(key, holder) {
      try {
        return await shared.acquire(key, holder);
      } catch (error) {
        if (!(error instanceof PanelctlError && error.code === 'E_STATE_UNAVAILABLE')) throw error;
        warn(`shared view missing: ${error.message}; reading ${holder.panel} under this machine's lock only (colleagues cannot see it)`);
        return new FileWorkLocks(stateDir).acquire(key, holder);
      }
    },
  };
}
