import type { SharedStore } from '../store.js';
import type { StateKey } from '../state-key.js';
import { PgAudit } from './audit.js';
import { PgBulk } from './bulk.js';
import { PgConnection, describeUrl } from './connection.js';
import { PgLeadership } from './leadership.js';
import { PgLeases } from './leases.js';
import { checkSchema } from './migrations.js';
import { PgWorkLocks } from './work-locks.js';

/** The team backend: one PostgreSQL database for a whole desk (README "Team setup"). */
export class PgSharedStore implements SharedStore {
  readonly kind = 'postgres' as const;
  readonly description: string;
  readonly db: PgConnection;
  readonly workLocks: PgWorkLocks;
  readonly leases: PgLeases;
  readonly audit: PgAudit;
  readonly bulk: PgBulk;

  constructor(url: string) {
    this.description = describeUrl(url);
    this.db = new PgConnection(url);
    // Nothing is read or written against a schema this panelctl does not know.
    this.db.firstUse = () => checkSchema(this.db);
    this.workLocks = new PgWorkLocks(this.db);
    this.leases = new PgLeases(this.db);
    this.audit = new PgAudit(this.db);
    this.bulk = new PgBulk(this.db);
  }

  stateKey(): Promise<StateKey> {
    return this.audit.sharedKey();
  }

  sweepLeadership(): PgLeadership {
    return new PgLeadership(this.db);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
