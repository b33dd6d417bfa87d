import os from 'node:os';
import pg from 'pg';
import { ExitCode, PanelctlError } from '../../core/errors.js';

/**
 * The connections of one panelctl process to the team's PostgreSQL. Two kinds:
 * - `session`: one long-lived connection that holds this process's session advisory locks (work
 *   locks, lease locks, the sweeper's leadership), so they end when the process dies and the server
 *   sees its socket close;
 * - `pool`: a few connections for transactions (the audit append), so one transaction never mixes
 *   with another query of the same process.
 * A connection that breaks (database restarted) is replaced on next use; the locks it held are gone,
 * which `lost` reports to whoever holds one.
 */

/** The database, shown without its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** The shared store cannot be reached: exit 4, and nothing was done. */
export class StateUnavailableError extends PanelctlError {
  constructor(url: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(ExitCode.unreachable, 'E_STATE_UNAVAILABLE', `the shared state store ${describeUrl(url)} cannot be reached (${why})`, {
      hint: 'panelctl does not change panels without the shared lock, lease and audit entry: try again when the database is back (README "Team setup")',
      data: { store: describeUrl(url) },
    });
  }
}

/** The store answered, but this role may not do what panelctl asked (42501 insufficient_privilege). */
export class StatePermissionError extends PanelctlError {
  constructor(url: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    const user = safeUser(url);
    super(ExitCode.unreachable, 'E_STATE_PERMISSION', `the shared state store ${describeUrl(url)} refused ${user ? `role ${user}` : 'this role'}: ${why}`, {
      hint: `the owner of panelctl's tables grants what it needs: \`panelctl state grants --role ${user ?? '<role>'}\` prints the SQL (README "Team setup")`,
      data: { store: describeUrl(url) },
    });
  }
}

function safeUser(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}

/** What a failed statement means to the caller: an outage, a missing grant, or the error itself. */
function storeError(url: string, error: unknown): unknown {
  if (isConnectionError(error)) return new StateUnavailableError(url, error);
  if ((error as { code?: string })?.code === '42501') return new StatePermissionError(url, error);
  return error;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** A broken or refused connection (not an error in what was asked). */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof StateUnavailableError) return true;
  const e = error as { code?: string; message?: string };
  if (e?.code && CONNECTION_CODES.has(e.code)) return true;
  // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 08xxx connection exceptions
  if (e?.code && (/^08/.test(e.code) || /^57P0[123]$/.test(e.code))) return true;
  return /Connection terminated|Client has encountered a connection error|not queryable|connection timeout/i.test(e?.message ?? '');
}

export const HOST = os.hostname();

export class PgConnection {
  private session?: Promise<pg.Client>;
  private poolInstance?: pg.Pool;
  /** Called when the session connection breaks: every session lock it held is gone. */
  private readonly lostHandlers = new Set<() => void>();
  private generation = 0;
  private ready?: Promise<void>;
  /** Set once a statement succeeded: a failure after that is an outage worth waiting out, not a store that is down. */
  reachedOnce = false;
  /** Runs once before the first use that succeeds (the schema check); retried after a failure. */
  firstUse?: () => Promise<void>;

  constructor(
    readonly url: string,
    private readonly connectTimeoutMs = 5000,
  ) {}

  private async ensureReady(): Promise<void> {
    if (!this.firstUse) return;
    this.ready ??= this.firstUse().then(
      () => {
        this.reachedOnce = true;
      },
      (error) => {
        this.ready = undefined;
        throw error;
      },
    );
    await this.ready;
  }

  private config(): pg.ClientConfig {
    return { connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs, application_name: `panelctl ${HOST} ${process.pid}` };
  }

  /** The session connection's generation: changes each time it is replaced (its locks are then gone). */
  get sessionGeneration(): number {
    return this.generation;
  }

  onLost(handler: () => void): () => void {
    this.lostHandlers.add(handler);
    return () => this.lostHandlers.delete(handler);
  }

  async sessionClient(): Promise<pg.Client> {
    if (!this.session) {
      const client = new pg.Client(this.config());
      const generation = ++this.generation;
      const broken = () => {
        if (this.generation !== generation || !this.session) return;
        this.session = undefined;
        client.end().catch(() => undefined);
        for (const handler of this.lostHandlers) handler();
      };
      client.on('error', broken);
      client.on('end', broken);
      this.session = client.connect().then(
        () => client,
        (error) => {
          this.session = undefined;
          throw new StateUnavailableError(this.url, error);
        },
      );
    }
    return this.session;
  }

  /** One statement on the session connection (where this process's advisory locks live). */
  /** The first-use check done by a statement of its own (the work lock checks the schema itself). */
  markReady(): void {
    this.ready ??= Promise.resolve();
    this.reachedOnce = true;
  }

  async sessionQuery<T extends pg.QueryResultRow>(text: string, values: unknown[] = [], options: { raw?: boolean } = {}): Promise<pg.QueryResult<T>> {
    if (!options.raw) await this.ensureReady();
    const client = await this.sessionClient();
    try {
      return await client.query<T>(text, values);
    } catch (error) {
      throw storeError(this.url, error);
    }
  }

  pool(): pg.Pool {
    if (!this.poolInstance) {
      this.poolInstance = new pg.Pool({ ...this.config(), max: 4, idleTimeoutMillis: 10_000 });
      this.poolInstance.on('error', () => undefined); // an idle client that broke is dropped by the pool
    }
    return this.poolInstance;
  }

  async query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<T>> {
    await this.ensureReady();
    return this.rawQuery<T>(text, values);
  }

  /**
   * An idempotent write that must not be lost to a short outage (a lease's record of a station
   * notice that was sent: lost, the next sweep would send it again): retried while the database
   * cannot be reached, for up to `forMs`.
   */
  async queryThroughOutage<T extends pg.QueryResultRow>(text: string, values: unknown[] = [], forMs = 30_000): Promise<pg.QueryResult<T>> {
    const end = Date.now() + forMs;
    for (;;) {
      try {
        return await this.query<T>(text, values);
      } catch (error) {
        if (!(error instanceof StateUnavailableError) || !this.reachedOnce || Date.now() >= end) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /** A statement without the first-use check (the check itself, `state migrate`). */
  async rawQuery<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<T>> {
    try {
      return await this.pool().query<T>(text, values);
    } catch (error) {
      throw storeError(this.url, error);
    }
  }

  /** Runs `work` in a transaction on a pooled connection. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, options: { raw?: boolean } = {}): Promise<T> {
    if (!options.raw) await this.ensureReady();
    let client: pg.PoolClient;
    try {
      client = await this.pool().connect();
    } catch (error) {
      throw new StateUnavailableError(this.url, error);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken = isConnectionError(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw storeError(this.url, error);
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.generation++;
    await Promise.all([session?.then((c) => c.end()).catch(() => undefined), this.poolInstance?.end().catch(() => undefined)]);
    this.poolInstance = undefined;
  }
}
