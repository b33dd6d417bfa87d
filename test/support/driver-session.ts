import type { CodeChecker, PanelSession, UserReader, UserWriter } from '../../src/core/contract.js';

/**
 * The shipped drivers' sessions are their own writer and reader (and code checker, where they
 * have one): `writer = this`. Driver tests call the members directly; this says so to the type
 * checker, and checks it, instead of hiding the v2 facets behind casts.
 */
export type DriverSession = PanelSession & UserWriter & UserReader & Partial<CodeChecker>;

export function asDriverSession<T extends PanelSession>(session: T): T & DriverSession {
  if (session.writer !== (session as unknown) || session.reader !== (session as unknown)) {
    throw new Error('this session is not its own writer and reader');
  }
  return session as T & DriverSession;
}
