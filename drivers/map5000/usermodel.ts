import { timingSafeEqual } from 'node:crypto';
import { ProtocolError, type Secret, type SlotKind, type UserSlot } from '../../src/driver-kit/index.js';
import { formatUserId, parseUserId } from './paths.js';
import type { UserListEntry, UserModelAnswer, UserType } from './schemas.js';

/**
 * The user model rules (docs/UsermodelApi.md, openapi.json /usermodel):
 * - every POST carries the current userModelSyncID; the 201 answer carries the new one, and any
 *   change to the table increases it (/syncstatus: "Any change to corresponding model will
 *   increase its synchronization ID"); a stale one is refused with 409 SyncError;
 * - create: the id must not be in use; modify: "all user parameters must be specified completely";
 * - delete: id and sync id only.
 */

/** The sync id the panel gave last; a POST answer must carry a larger one (an echo of our request carries the same). */
export class SyncIdTracker {
  private current: number | undefined;

  get value(): number | undefined {
    return this.current;
  }

  /** A sync id read from the panel (GET /syncstatus, GET /usermodel/{id}). */
  observe(id: number): void {
    this.current = id;
  }

  /** The sync id to send with the next POST. */
  forPost(): number {
    if (this.current === undefined) throw new Error('no userModelSyncID read yet: read it before a POST');
    return this.current;
  }

  /** The 201 answer to a POST that sent `sent`: must move forward, else it is not the answer to that POST. */
  accept(sent: number, answered: number): void {
    if (answered <= sent) {
      throw new ProtocolError(
        `the panel acknowledged a user change with userModelSyncID ${answered}, not above the ${sent} sent: that is not the answer to the change (an echo?)`,
      );
    }
    this.current = answered;
  }
}

export interface NewUserFields {
  slot: number;
  name: string;
  passcode: Secret;
  userType: UserType;
  accessModel?: string;
  language?: string;
}

/** panelctl keeps one name; the MAP keeps firstName and lastName, and GET /users joins them with a space (example getAllUsers). */
export function splitName(name: string): { firstName: string; lastName: string } {
  const trimmed = name.trim().replace(/\s+/g, ' ');
  const space = trimmed.indexOf(' ');
  return space < 0 ? { firstName: trimmed, lastName: '' } : { firstName: trimmed.slice(0, space), lastName: trimmed.slice(space + 1) };
}

export function joinName(firstName: string | undefined, lastName: string | undefined): string {
  return [firstName ?? '', lastName ?? ''].filter((part) => part.length > 0).join(' ');
}

export function createBody(user: NewUserFields, syncId: number): Record<string, unknown> {
  const body: Record<string, unknown> = {
    '@cmd': 'CREATE',
    id: formatUserId(user.slot),
    userType: user.userType,
    ...splitName(user.name),
    passcode: user.passcode.reveal(),
  };
  if (user.accessModel) body.accessModel = user.accessModel;
  if (user.language) body.language = user.language;
  body.userModelSyncID = syncId;
  return body;
}

/** Secrets that come back encrypted when the panel has a shared key (docs/UsermodelApi.md "User Secrets Encryption"). */
const OTHER_SECRETS = ['oiiPassword', 'smartkeyToken'];

/**
 * MODIFY with a new passcode: every field as read ("all user parameters must be specified
 * completely"), the new passcode in plain text. When the record came back with encrypted secrets,
 * the other secrets are left out and encryptedSecrets is false: "If only one secret need to be
 * modified in plain text, it is valid to omit the other secrets in the request."
 */
export function modifyPasscodeBody(record: UserModelAnswer, passcode: Secret, syncId: number): Record<string, unknown> {
  const body: Record<string, unknown> = { '@cmd': 'MODIFY' };
  for (const [key, value] of Object.entries(record)) {
    if (key === 'userModelSyncID' || key.startsWith('@')) continue;
    if (record.encryptedSecrets && OTHER_SECRETS.includes(key)) continue;
    body[key] = value;
  }
  body.id = record.id;
  body.passcode = passcode.reveal();
  body.encryptedSecrets = false;
  body.userModelSyncID = syncId;
  return body;
}

export function deleteBody(slot: number, syncId: number): Record<string, unknown> {
  return { '@cmd': 'DELETE', id: formatUserId(slot), userModelSyncID: syncId };
}

export function kindOf(userType: string | undefined): SlotKind {
  return userType?.startsWith('Installer:') ? 'installer' : 'user';
}

/** A GET /users entry as panelctl shows it. The list carries no passcode: hasCode is taken as true (every MAP user has one). */
export function slotFromList(entry: UserListEntry): UserSlot {
  const slot = parseUserId(entry.id) as number;
  const userType = entry.userType ?? entry.usertype;
  return { slot, kind: kindOf(userType), name: entry.name ?? '', type: userType, hasCode: true };
}

export function slotFromModel(record: UserModelAnswer): UserSlot {
  const slot = parseUserId(record.id) as number;
  return { slot, kind: kindOf(record.userType), name: joinName(record.firstName, record.lastName), type: record.userType, hasCode: true };
}

/**
 * What a read-back can say about a passcode: 'match' and 'differs' when the panel returned it in
 * plain text (no shared key set), 'unreadable' when it came back encrypted or not at all.
 */
export function passcodeReadBack(record: UserModelAnswer, expected: Secret): 'match' | 'differs' | 'unreadable' {
  if (record.encryptedSecrets || record.passcode === undefined) return 'unreadable';
  const a = Buffer.from(record.passcode);
  const b = Buffer.from(expected.reveal());
  return a.length === b.length && timingSafeEqual(a, b) ? 'match' : 'differs';
}
