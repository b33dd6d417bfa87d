import { randomBytes } from 'node:crypto';
import { UsageError } from '../../core/errors.js';
import type { PgConnection } from './connection.js';

/**
 * The team store's schema, one numbered step at a time. `panelctl state migrate` applies the
 * missing steps in one transaction under an advisory lock (two migrating at once: the second
 * waits, then finds nothing to do), so running it again is harmless. A database whose schema is
 * newer than this panelctl knows is refused rather than written with old assumptions.
 */
interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'work locks, test-mode leases, audit log',
    sql: `
CREATE TABLE panelctl_work_locks (
  key text PRIMARY KEY,
  panel text NOT NULL,
  command text,
  operator text,
  ticket text,
  host text,
  pid integer,
  backend_pid integer NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE panelctl_leases (
  id text PRIMARY KEY,
  panel text NOT NULL,
  operator text NOT NULL,
  host text NOT NULL,
  until timestamptz NOT NULL,
  data jsonb NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz
);
-- At most one active lease per panel, whoever started it and wherever.
CREATE UNIQUE INDEX panelctl_leases_one_active ON panelctl_leases (panel) WHERE ended_at IS NULL;
CREATE INDEX panelctl_leases_active_until ON panelctl_leases (until) WHERE ended_at IS NULL;

CREATE TABLE panelctl_audit (
  seq bigint PRIMARY KEY,
  time timestamptz NOT NULL,
  panel text NOT NULL,
  operator text NOT NULL,
  host text,
  action text NOT NULL,
  prev text NOT NULL UNIQUE,
  hash text NOT NULL UNIQUE,
  -- json, not jsonb: the entry keeps its text as hashed (jsonb would reorder nested keys).
  entry json NOT NULL
);
CREATE INDEX panelctl_audit_panel ON panelctl_audit (panel, seq);
CREATE INDEX panelctl_audit_operator ON panelctl_audit (operator, seq);
CREATE INDEX panelctl_audit_time ON panelctl_audit (time);

-- Append-only: an entry is never changed or removed through panelctl's tables.
CREATE FUNCTION panelctl_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'panelctl_audit is append-only';
END $$;
CREATE TRIGGER panelctl_audit_no_update BEFORE UPDATE OR DELETE ON panelctl_audit FOR EACH ROW EXECUTE FUNCTION panelctl_audit_append_only();
CREATE TRIGGER panelctl_audit_no_truncate BEFORE TRUNCATE ON panelctl_audit FOR EACH STATEMENT EXECUTE FUNCTION panelctl_audit_append_only();

-- The signed head (seq, hash, HMAC with the store's key): cutting entries off the end shows.
CREATE TABLE panelctl_audit_head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq bigint NOT NULL,
  hash text NOT NULL,
  mac text NOT NULL
);

CREATE TABLE panelctl_state_key (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  key bytea NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'bulk journals and plan claims',
    sql: `
-- One row per journal event of a plan (any shard, any machine): a shard resumes anywhere.
CREATE TABLE panelctl_journal (
  id bigserial PRIMARY KEY,
  plan text NOT NULL,
  shard text NOT NULL,
  time text NOT NULL,
  step text NOT NULL,
  panel text NOT NULL,
  event text NOT NULL,
  entry json NOT NULL
);
CREATE INDEX panelctl_journal_plan ON panelctl_journal (plan, time, id);

-- The panels a running apply works on; live while its session advisory lock is held.
CREATE TABLE panelctl_plan_claims (
  token text PRIMARY KEY,
  plan text NOT NULL,
  shard text,
  panels text[] NOT NULL,
  operator text,
  ticket text,
  command text,
  host text,
  pid integer,
  backend_pid integer NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX panelctl_plan_claims_plan ON panelctl_plan_claims (plan);

-- What \`state import\` has brought in already (an audit entry by its hash, a journal line by its content), so it can be repeated.
CREATE TABLE panelctl_imports (
  source text PRIMARY KEY,
  imported_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 3,
    name: 'when each panel last answered',
    sql: `
-- When a panel last answered a panelctl session (on the server's clock, shared by the whole desk), for the next
-- session's pacing: a MAP 5000 answers a request sooner than 1 s after its last answer with 503 and a 60 s penalty.
CREATE TABLE panelctl_panel_contacts (
  key text PRIMARY KEY,
  at timestamptz NOT NULL
);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

const MIGRATION_LOCK = 'SELECT pg_advisory_xact_lock(1886023780, 0)';

export interface MigrateResult {
  from: number;
  to: number;
  applied: Array<{ version: number; name: string }>;
}

async function currentVersion(query: (text: string) => Promise<{ rows: Array<{ version: number | null }> }>): Promise<number> {
  const exists = await query("SELECT to_regclass('panelctl_schema') IS NOT NULL AS version");
  if (!exists.rows[0].version) return 0;
  const { rows } = await query('SELECT max(version) AS version FROM panelctl_schema');
  return Number(rows[0].version ?? 0);
}

function newerSchema(found: number): UsageError {
  return new UsageError(
    `the shared state store has schema version ${found}, newer than this panelctl knows (${SCHEMA_VERSION}); it does not write to a schema it does not know`,
    { code: 'E_STATE_SCHEMA', hint: 'upgrade panelctl on this machine to the version the rest of the desk runs' },
  );
}

/** Brings the schema up to SCHEMA_VERSION; refuses a newer one. */
export async function migrate(db: PgConnection): Promise<MigrateResult> {
  return db.transaction(
    async (client) => {
      await client.query(MIGRATION_LOCK);
      const from = await currentVersion((text) => client.query(text));
      if (from > SCHEMA_VERSION) throw newerSchema(from);
      // Up to date: no DDL at all, so a role granted only `state grants` may run this harmlessly.
      if (from === SCHEMA_VERSION) return { from, to: SCHEMA_VERSION, applied: [] };
      await client.query(`CREATE TABLE IF NOT EXISTS panelctl_schema (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const applied: MigrateResult['applied'] = [];
      for (const step of MIGRATIONS.filter((m) => m.version > from)) {
        await client.query(step.sql);
        await client.query('INSERT INTO panelctl_schema (version, name) VALUES ($1, $2)', [step.version, step.name]);
        applied.push({ version: step.version, name: step.name });
      }
      // The key that signs the audit head, made once for the whole desk.
      await client.query('INSERT INTO panelctl_state_key (key) VALUES ($1) ON CONFLICT DO NOTHING', [randomBytes(32)]);
      return { from, to: SCHEMA_VERSION, applied };
    },
    { raw: true },
  );
}

/** Every command checks the schema once before using the store: too old asks for a migrate, too new is refused. */
export async function checkSchema(db: PgConnection): Promise<void> {
  const found = await db.rawQuery<{ version: number | null }>('SELECT max(version) AS version FROM panelctl_schema').then(
    ({ rows }) => Number(rows[0].version ?? 0),
    (error) => {
      if ((error as { code?: string }).code === '42P01') return 0;
      throw error;
    },
  );
  if (found !== SCHEMA_VERSION) throw schemaError(found);
}

/** Why this panelctl does not use a store at schema version `found`. */
export function schemaError(found: number): UsageError {
  if (found > SCHEMA_VERSION) return newerSchema(found);
  return new UsageError(
    `the shared state store ${found === 0 ? 'has no panelctl schema yet' : `has schema version ${found}, older than this panelctl's ${SCHEMA_VERSION}`}`,
    { code: 'E_STATE_SCHEMA', hint: 'run `panelctl state migrate` once (any engineer may; it is safe to repeat)' },
  );
}
