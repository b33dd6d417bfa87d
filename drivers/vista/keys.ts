import type { Secret } from '../../src/driver-kit/index.js';

/**
 * The VISTA keypad command sequences (README: "The VISTA keypad commands"), built as the keys to
 * send plus a mask of which keys are secret (code digits), so a trace never shows them. Pure.
 */

/** User numbers: 01 installer, 02 master; ordinary users from 03 (README). */
export const INSTALLER_USER = 1;
export const MASTER_USER = 2;
export const FIRST_USER = 3;
export const MAX_USER = 49;
export const CODE_LENGTH = 4;

export const Key = { off: '1', away: '2', stay: '3', test: '5', code: '8', walk: '0' } as const;

/** How a delete ends: `#0` (VISTA-20P FAQ), `0#` (some installer pages), or nothing and a wait for the beep. */
export type DeleteKeys = '#0' | '0#' | 'wait';
export const DELETE_KEYS: readonly DeleteKeys[] = ['#0', '0#', 'wait'];

export interface KeySequence {
  /** The keys, in order. Contains code digits: only for the wire. */
  readonly keys: string;
  /** Same length as `keys`: `*` where the key is secret, the key itself elsewhere. Safe to show. */
  readonly shown: string;
  /** What the sequence does, for messages ("add user 05"). */
  readonly what: string;
}

function part(key: string): KeySequence {
  return { keys: key, shown: key, what: '' };
}

function secret(code: Secret): KeySequence {
  const digits = code.reveal();
  return { keys: digits, shown: '*'.repeat(digits.length), what: '' };
}

function join(what: string, ...parts: KeySequence[]): KeySequence {
  return { keys: parts.map((p) => p.keys).join(''), shown: parts.map((p) => p.shown).join(''), what };
}

export function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

/** Code + CODE + user + new code: adds the user, or changes the code of one that exists. */
export function setUserCode(master: Secret, user: number, code: Secret): KeySequence {
  return join(`set the code of user ${twoDigits(user)}`, secret(master), part(Key.code), part(twoDigits(user)), secret(code));
}

/** The master (user 02) changes itself: the new code is keyed twice. */
export function changeMasterCode(master: Secret, code: Secret): KeySequence {
  return join('change the master code', secret(master), part(Key.code), part(twoDigits(MASTER_USER)), secret(code), secret(code));
}

export function deleteUser(master: Secret, user: number, ending: DeleteKeys): KeySequence {
  const tail = ending === 'wait' ? [] : [part(ending)];
  return join(`delete user ${twoDigits(user)}`, secret(master), part(Key.code), part(twoDigits(user)), ...tail);
}

/** Code + TEST, then 0 (WALK) where the panel asks "1 = DIAL, 0 = WALK". */
export function startTest(code: Secret, walkPrompt: boolean): KeySequence {
  return join('start the walk test', secret(code), part(Key.test), ...(walkPrompt ? [part(Key.walk)] : []));
}

/** Code + OFF ends the test (and disarms, which a disarmed panel already is). */
export function stopTest(code: Secret): KeySequence {
  return join('end the walk test', secret(code), part(Key.off));
}

/** Keys an AlarmDecoder passes to the panel as typed keys. */
export const KEYS = /^[0-9*#]+$/;
