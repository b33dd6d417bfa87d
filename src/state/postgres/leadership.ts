import type { Leadership } from '../sweep-leader.js';
import type { PgConnection } from './connection.js';
import { LOCK_NAMESPACE } from './keys.js';

/**
 * The desk's sweeper leadership: a session advisory lock. When the session connection breaks
 * (database restarted, network cut) the lock is gone with it, so this process stops leading at
 * once and contends again on the new connection, like everyone else.
 */
export class PgLeadership implements Leadership {
  private leading = false;
  private lost = false;
  /** The session connection the lead was taken on (leading is only true there). */
  private generation = 0;

  constructor(private readonly db: PgConnection) {
    db.onLost(() => {
      if (this.leading) this.lost = true;
      this.leading = false;
    });
  }

  lostLead(): boolean {
    const lost = this.lost;
    this.lost = false;
    return lost;
  }

  async lead(): Promise<boolean> {
    if (this.leading && this.generation === this.db.sessionGeneration) return true;
    this.leading = false;
    const { rows } = await this.db.sessionQuery<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE.sweepLeader}, 0) AS ok`);
    if (rows[0].ok) {
      this.leading = true;
      this.generation = this.db.sessionGeneration;
    }
    return this.leading;
  }

  async release(): Promise<void> {
    if (!this.leading || this.generation !== this.db.sessionGeneration) return;
    this.leading = false;
    await this.db.sessionQuery(`SELECT pg_advisory_unlock(${LOCK_NAMESPACE.sweepLeader}, 0)`).catch(() => undefined);
  }
}
