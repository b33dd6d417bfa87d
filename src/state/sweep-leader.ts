import path from 'node:path';
import { ensurePrivateDir } from './private-files.js';
import { acquireLock, type Release } from './process-lock.js';
import { sharedStore } from './store.js';

/**
 * One sweeper acts at a time (`test-mode sweep --watch`): the others stand by and take over when
 * the leader dies. With a shared store, leadership is a PostgreSQL session advisory lock (released
 * by the server when the leader's connection closes: killed, crashed, or the database restarted);
 * with files, a lock file that dies with its process.
 */
export interface Leadership {
  /** True while this process leads; when it does not, tries once to become the leader. */
  lead(): Promise<boolean>;
  /**
   * True once after the lead was lost without a release (its database connection closed), even when
   * the next `lead()` takes it again: meanwhile another sweeper may have led. (A lock file held by a
   * live process is never lost: the files backend has no such method.)
   */
  lostLead?(): boolean;
  release(): Promise<void>;
}

class FileLeadership implements Leadership {
  private held?: Release;

  constructor(private readonly stateDir: string) {}

  async lead(): Promise<boolean> {
    if (this.held) return true;
    await ensurePrivateDir(this.stateDir);
    const got = await acquireLock(path.join(this.stateDir, 'sweep.leader'), { waitMs: 0, details: { command: 'test-mode sweep --watch' } });
    if (typeof got === 'function') this.held = got;
    return this.held !== undefined;
  }

  async release(): Promise<void> {
    await this.held?.();
    this.held = undefined;
  }
}

export async function sweepLeadership(stateDir: string): Promise<Leadership> {
  const shared = await sharedStore(stateDir);
  return shared ? shared.sweepLeadership() : new FileLeadership(stateDir);
}
