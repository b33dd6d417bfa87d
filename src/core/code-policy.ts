import { randomInt } from 'node:crypto';
import { ValidationError } from './errors.js';
import type { CodeRules } from './contract.js';
import { Secret } from './secret.js';

/**
 * The most common 4- and 6-digit PINs (from published analyses of leaked PIN sets).
 * All-same digits and straight runs are rejected by rule, so they are not repeated here.
 */
export const COMMON_PINS: ReadonlySet<string> = new Set([
  '1212',
  '1004',
  '2000',
  '6969',
  '4321',
  '1122',
  '1313',
  '2001',
  '2580',
  '1010',
  '0007',
  '1230',
  '1001',
  '0852',
  '2222',
  '5683',
  '0911',
  '1984',
  '1985',
  '1986',
  '1987',
  '1988',
  '1989',
  '1990',
  '1991',
  '1992',
  '1993',
  '1994',
  '1995',
  '1996',
  '1997',
  '1998',
  '1999',
  '2002',
  '2003',
  '2004',
  '2005',
  '2010',
  '2020',
  '1111',
  '1357',
  '2468',
  '7777',
  '1212',
  '4444',
  '6666',
  '9999',
  '3333',
  '5555',
  '8888',
  '0000',
  '1020',
  '1122',
  '2121',
  '2323',
  '1100',
  '0101',
  '0202',
  '1225',
  '0420',
  '1123',
  '1231',
  '5150',
  '7410',
  '8520',
  '9630',
  '1478',
  '3691',
  '1236',
  '1470',
  '121212',
  '123123',
  '111222',
  '112233',
  '123321',
  '654321',
  '159753',
  '131313',
  '696969',
  '101010',
  '200000',
  '520520',
  '112358',
  '147258',
  '159357',
  '147852',
  '123654',
  '100000',
  '121314',
  '000007',
  '007007',
  '852456',
]);

export interface CodePolicy extends CodeRules {
  /** Accept weak codes (all-same, straight runs, common PINs). Set only by an explicit --allow-weak. */
  allowWeak?: boolean;
  /** At least this many different digits (issue: minimum distinctness). */
  minDistinctDigits?: number;
  /**
   * Codes already in force on a panel that reads "a user's code plus or minus one" as that user's
   * duress code: a new code next to one of them would raise a silent hold-up alarm, or be one.
   */
  duressNeighboursOf?: readonly Secret[];
}

/**
 * Whether two codes are one apart as such panels count: the number plus or minus one (1239/1240),
 * or the last digit plus or minus one with wrap-around (1239/1230). Same length only.
 */
export function areDuressNeighbours(a: string, b: string): boolean {
  if (a.length !== b.length || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  const difference = BigInt(a) - BigInt(b);
  if (difference === 1n || difference === -1n) return true;
  if (a.slice(0, -1) !== b.slice(0, -1)) return false;
  const lastStep = (Number(a.at(-1)) - Number(b.at(-1)) + 10) % 10;
  return lastStep === 1 || lastStep === 9;
}

function nextToKnownCode(digits: string, policy: CodePolicy): boolean {
  return (policy.duressNeighboursOf ?? []).some((known) => areDuressNeighbours(digits, known.reveal()));
}

function isStraightRun(digits: string): boolean {
  const step = digits.charCodeAt(1) - digits.charCodeAt(0);
  if (step !== 1 && step !== -1) return false;
  for (let i = 2; i < digits.length; i++) {
    if (digits.charCodeAt(i) - digits.charCodeAt(i - 1) !== step) return false;
  }
  return true;
}

/** Why a code is weak, or undefined. Messages name the rule, never the code. */
export function weaknessOf(digits: string, minDistinct = 2): string | undefined {
  if (/^(\d)\1*$/.test(digits)) return 'must not be the same digit repeated';
  if (isStraightRun(digits)) return 'must not be a straight run of digits like 1234 or 9876';
  if (COMMON_PINS.has(digits)) return 'is one of the most common PINs';
  if (new Set(digits).size < minDistinct) return `must use at least ${minDistinct} different digits`;
  return undefined;
}

/** Throws ValidationError naming `field` and the rule broken. Never includes the code. */
export function checkCode(code: Secret, policy: CodePolicy, field = 'code'): void {
  const digits = code.reveal();
  if (!/^\d+$/.test(digits)) throw new ValidationError(field, 'must contain digits 0-9 only');
  if (policy.allowedLengths && !policy.allowedLengths.includes(digits.length)) {
    throw new ValidationError(field, `must be ${policy.allowedLengths.join(' or ')} digits long for this panel`);
  }
  if (digits.length < policy.minLength || digits.length > policy.maxLength) {
    const range = policy.minLength === policy.maxLength ? `${policy.minLength}` : `${policy.minLength} to ${policy.maxLength}`;
    throw new ValidationError(field, `must be ${range} digits long for this panel`);
  }
  // Not a matter of taste, so --allow-weak does not waive it.
  if (nextToKnownCode(digits, policy)) {
    throw new ValidationError(field, 'must not be another code on this panel plus or minus one: this panel treats that as a duress code');
  }
  if (policy.allowWeak) return;
  const weakness = weaknessOf(digits, policy.minDistinctDigits);
  if (weakness) throw new ValidationError(field, `${weakness} (use --allow-weak to accept it anyway)`);
}

/** Picks a code length for generation: the panel's preferred (longest allowed up to 6) length. */
export function defaultGeneratedLength(rules: CodeRules): number {
  if (rules.allowedLengths?.length) return Math.max(...rules.allowedLengths.filter((n) => n <= 6), Math.min(...rules.allowedLengths));
  return Math.min(Math.max(rules.minLength, 6), rules.maxLength);
}

/** One uniformly random digit from the OS CSPRNG. */
const csprngDigit = (): number => randomInt(10);

/**
 * A uniformly random code, redrawn until it passes the policy. `randomDigit` is the OS CSPRNG;
 * tests pass a scripted source so that every branch of the redraw is exercised, not sampled.
 */
export function generateCode(policy: CodePolicy, length = defaultGeneratedLength(policy), randomDigit = csprngDigit): Secret {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let digits = '';
    for (let i = 0; i < length; i++) digits += String(randomDigit());
    if (!weaknessOf(digits, policy.minDistinctDigits) && !nextToKnownCode(digits, policy)) return new Secret(digits, 'generated code');
  }
  throw new Error('could not generate a code that passes the policy');
}
