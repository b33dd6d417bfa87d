import { createHmac, timingSafeEqual } from 'node:crypto';
import { GENESIS, chainProblems, hashOf, headData, type AuditEntry, type AuditProblem, type AuditRecord, type LogLine } from '../../audit/log.js';
import { keyFromBytes, type StateKey } from '../state-key.js';
import type { AuditFilter, AuditStore } from '../store.js';
import { HOST, StateUnavailableError, type PgConnection } from './connection.js';
import { LOCK_NAMESPACE } from './keys.js';

/**
 * The desk's audit log: the same entries and hash chain as the files backend, one row each.
 * Appends from every host are serialised by a transaction-scoped advisory lock, under which the
 * last entry is read and the next ones chained to it; `seq` and `prev` are unique as well, so even
 * a writer that skipped the lock could not fork the chain. Rows cannot be updated or deleted
 * (a trigger), and a head row signed with the store's key names the last entry.
 */
export class PgAudit implements AuditStore {
  private key?: Promise<Buffer>;

  constructor(private readonly db: PgConnection) {}

  private stateKey(): Promise<Buffer> {
    this.key ??= this.db.query<{ key: Buffer }>('SELECT key FROM panelctl_state_key').then(
      ({ rows }) => {
        if (!rows[0]) throw new Error('the shared store has no key: run `panelctl state migrate`');
        return rows[0].key;
      },
      (error) => {
        this.key = undefined;
        throw error;
      },
    );
    return this.key;
  }

  /** The store's key as a StateKey (bulk plans are signed with it, so any machine of the desk can apply them). */
  async sharedKey(): Promise<StateKey> {
    return keyFromBytes(await this.stateKey());
  }

  private sign(key: Buffer, head: { seq: number; hash: string }): string {
    return createHmac('sha256', key).update('audit-head').update('\0').update(headData(head)).digest('hex');
  }

  /**
   * Nothing to do before the panel: every panel is contacted only after its work lock, whose one
   * statement proves the store reachable and its schema known (so a change is never made without
   * the store that must record it); the key is read when the entry is appended.
   */
  async prepare(): Promise<void> {}

  /**
   * Appends through a short outage (an entry of a change already made must not be lost): a failed
   * attempt is retried for up to 30 s, after checking whether it committed after all (its last
   * hash is in the table), so an entry is never written twice either.
   */
  async appendBatch(records: AuditRecord[]): Promise<AuditEntry[]> {
    const end = Date.now() + 30_000;
    let attempt: AuditEntry[] | undefined;
    for (;;) {
      try {
        if (attempt) {
          const last = attempt[attempt.length - 1];
          const { rows } = await this.db.query('SELECT 1 FROM panelctl_audit WHERE hash = $1', [last.hash]);
          if (rows.length) return attempt;
        }
        const tried: AuditEntry[] = [];
        attempt = tried;
        return await this.appendOnce(records, tried);
      } catch (error) {
        if (!(error instanceof StateUnavailableError) || !this.db.reachedOnce || Date.now() >= end) throw error;
        if (attempt && !attempt.length) attempt = undefined;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /**
   * `state import`: entries of a files log (already verified) chained onto the desk's log, keeping
   * their time and marking where they came from. Each source entry is recorded by its hash in the
   * same transaction, so importing again adds nothing. Returns how many were new.
   */
  async importEntries(source: AuditEntry[], from: string): Promise<{ imported: number; already: number }> {
    const keys = source.map((e) => `audit:${e.hash}`);
    const { rows } = await this.db.query<{ source: string }>('SELECT source FROM panelctl_imports WHERE source = ANY($1)', [keys]);
    const seen = new Set(rows.map((r) => r.source));
    const fresh = source.filter((e) => !seen.has(`audit:${e.hash}`));
    if (!fresh.length) return { imported: 0, already: source.length };
    const records = fresh.map(({ v: _v, seq, prev: _p, hash: _h, ...rest }) => ({
      ...rest,
      details: { ...rest.details, importedFrom: from, importedSeq: seq },
    }));
    await this.appendOnce(
      records as AuditRecord[],
      [],
      fresh.map((e) => `audit:${e.hash}`),
    );
    return { imported: fresh.length, already: source.length - fresh.length };
  }

  private async appendOnce(records: AuditRecord[], entries: AuditEntry[], importKeys: string[] = []): Promise<AuditEntry[]> {
    const key = await this.stateKey();
    return this.db.transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.audit}, 0)`);
      if (importKeys.length) {
        // Under the lock: a concurrent import of the same entries finds them recorded and adds nothing.
        const done = await client.query('SELECT 1 FROM panelctl_imports WHERE source = ANY($1) LIMIT 1', [importKeys]);
        if (done.rows.length) return [];
        await client.query('INSERT INTO panelctl_imports (source) SELECT unnest($1::text[])', [importKeys]);
      }
      const last = await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM panelctl_audit ORDER BY seq DESC LIMIT 1');
      let head = last.rows[0] ? { seq: Number(last.rows[0].seq), hash: last.rows[0].hash } : { seq: 0, hash: GENESIS };
      for (const record of records) {
        const clean = JSON.parse(JSON.stringify(record)) as AuditRecord;
        const unsigned = { v: 1 as const, seq: head.seq + 1, time: new Date().toISOString(), prev: head.hash, host: HOST, ...clean };
        const entry: AuditEntry = { ...unsigned, hash: hashOf(unsigned) };
        entries.push(entry);
        head = { seq: entry.seq, hash: entry.hash };
      }
      const rows = entries.map((e) => ({
        seq: e.seq,
        time: e.time,
        panel: e.panel,
        operator: e.operator,
        host: e.host,
        action: e.action,
        prev: e.prev,
        hash: e.hash,
        entry: e,
      }));
      await client.query(
        `WITH added AS (
           INSERT INTO panelctl_audit (seq, time, panel, operator, host, action, prev, hash, entry)
           SELECT * FROM json_to_recordset($1::json)
             AS x(seq bigint, time timestamptz, panel text, operator text, host text, action text, prev text, hash text, entry json)
           RETURNING 1)
         INSERT INTO panelctl_audit_head (seq, hash, mac) VALUES ($2, $3, $4)
         ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, mac = EXCLUDED.mac`,
        [JSON.stringify(rows), head.seq, head.hash, this.sign(key, head)],
      );
      return entries;
    });
  }

  async read(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.panel !== undefined) where.push(`panel = $${values.push(filter.panel)}`);
    if (filter.operator !== undefined) where.push(`operator = $${values.push(filter.operator)}`);
    if (filter.since !== undefined) where.push(`time >= $${values.push(new Date(filter.since).toISOString())}`);
    const condition = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const text =
      filter.limit !== undefined
        ? `SELECT entry FROM (SELECT seq, entry FROM panelctl_audit ${condition} ORDER BY seq DESC LIMIT $${values.push(filter.limit)}) last ORDER BY seq`
        : `SELECT entry FROM panelctl_audit ${condition} ORDER BY seq`;
    const { rows } = await this.db.query<{ entry: AuditEntry }>(text, values);
    return rows.map((r) => r.entry);
  }

  async verify(): Promise<{ entries: number; problems: AuditProblem[] }> {
    const key = await this.stateKey();
    const { rows } = await this.db.query<{ seq: string; hash: string; prev: string; entry: AuditEntry }>(
      'SELECT seq, hash, prev, entry FROM panelctl_audit ORDER BY seq',
    );
    const lines: LogLine[] = rows.map((r) => {
      // The row's own columns must say what its entry says (a row edited around the trigger).
      const columnsAgree = Number(r.seq) === r.entry.seq && r.hash === r.entry.hash && r.prev === r.entry.prev;
      return columnsAgree ? { line: Number(r.seq), entry: r.entry } : { line: Number(r.seq), malformed: 'row columns disagree with its entry' };
    });
    const { problems, end } = chainProblems(lines);
    const head = (await this.db.query<{ seq: string; hash: string; mac: string }>('SELECT seq, hash, mac FROM panelctl_audit_head')).rows[0];
    const line = lines.at(-1)?.line ?? 0;
    if (!head) {
      if (end.seq > 0) problems.push({ line, problem: 'the head row is missing (it records how many entries were written)' });
    } else {
      const signed = { seq: Number(head.seq), hash: head.hash };
      const mac = Buffer.from(/^[0-9a-f]{64}$/.test(head.mac) ? head.mac : '', 'hex');
      const expected = Buffer.from(this.sign(key, signed), 'hex');
      if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
        problems.push({ line, problem: "the head is not signed with the store's key (it was rewritten)" });
      } else if (signed.seq !== end.seq || signed.hash !== end.hash) {
        problems.push({
          line,
          problem: `the log ends at entry ${end.seq} but the signed head says ${signed.seq} were written (entries were removed or the last entry was replaced)`,
        });
      }
    }
    return { entries: lines.length, problems: problems as AuditProblem[] };
  }
}
