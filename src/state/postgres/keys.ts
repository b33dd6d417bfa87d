/**
 * Advisory lock keys of the team store: (namespace, hashtext(name)) pairs, so panelctl's locks
 * never collide with another application's on the same database, and `pg_locks` shows which is which.
 */
export const LOCK_NAMESPACE = {
  migrate: 1886023780,
  work: 1886023781,
  lease: 1886023782,
  audit: 1886023783,
  sweepLeader: 1886023784,
  planClaims: 1886023785,
  claim: 1886023786,
} as const;
