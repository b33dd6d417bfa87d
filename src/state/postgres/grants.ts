import { ValidationError } from '../../core/errors.js';

/**
 * Least privilege for a desk (README "Team setup"): the tables' owner can disable the audit log's
 * append-only trigger, so engineers should connect as a role that does not own the tables and holds
 * only what panelctl's statements need. This is that list, table by table, as SQL for the owner to
 * run after `state migrate`. The audit log gets SELECT and INSERT only: no UPDATE, DELETE or
 * TRUNCATE, and only an owner may ALTER TABLE ... DISABLE TRIGGER.
 */
const PRIVILEGES: Array<{ table: string; privileges: string; why: string }> = [
  { table: 'panelctl_schema', privileges: 'SELECT', why: 'every command checks the schema version' },
  { table: 'panelctl_state_key', privileges: 'SELECT', why: 'signs the audit head and bulk plans' },
  { table: 'panelctl_audit', privileges: 'SELECT, INSERT', why: 'append and read; never change or remove' },
  { table: 'panelctl_audit_head', privileges: 'SELECT, INSERT, UPDATE', why: 'the signed end of the chain moves with each append' },
  { table: 'panelctl_work_locks', privileges: 'SELECT, INSERT, UPDATE, DELETE', why: 'who talks to which panel right now' },
  { table: 'panelctl_leases', privileges: 'SELECT, INSERT, UPDATE', why: 'test-mode leases are started and ended, never removed' },
  { table: 'panelctl_journal', privileges: 'SELECT, INSERT', why: 'bulk journals are appended' },
  { table: 'panelctl_plan_claims', privileges: 'SELECT, INSERT, DELETE', why: 'the panels a running apply works on' },
  { table: 'panelctl_panel_contacts', privileges: 'SELECT, INSERT, UPDATE', why: "when each panel last answered (the next session's pacing)" },
  { table: 'panelctl_imports', privileges: 'SELECT, INSERT', why: 'what `state import` brought in already' },
];

const SEQUENCES = ['panelctl_journal_id_seq'];

/** A role or schema name as PostgreSQL folds an unquoted identifier: lower case, so the SQL reads as it runs. */
const IDENTIFIER = /^[a-z_][a-z0-9_$]{0,62}$/;

function identifier(field: string, value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new ValidationError(field, 'a plain PostgreSQL name: lower-case letters, digits and _, starting with a letter or _, at most 63 characters');
  }
  return `"${value}"`;
}

/** The GRANT statements that let `role` run every panelctl command against the store in `schema`. */
export function grantsFor(role: string, schema = 'public'): string {
  const who = identifier('--role', role);
  const where = identifier('--schema', schema);
  const lines = [
    `-- panelctl team store: what role ${role} needs, and nothing more. Run as the owner of the tables, after`,
    '-- `panelctl state migrate`; engineers and sweepers then connect as this role, which cannot change or remove',
    '-- audit entries or switch off the trigger that forbids it (only an owner can).',
    'BEGIN;',
    `GRANT USAGE ON SCHEMA ${where} TO ${who};`,
    ...PRIVILEGES.flatMap(({ table, privileges, why }) => [`-- ${why}`, `GRANT ${privileges} ON ${where}.${table} TO ${who};`]),
    ...SEQUENCES.map((sequence) => `GRANT USAGE ON SEQUENCE ${where}.${sequence} TO ${who};`),
    'COMMIT;',
  ];
  return `${lines.join('\n')}\n`;
}
