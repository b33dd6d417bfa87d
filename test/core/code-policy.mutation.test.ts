import { describe, expect, it } from 'vitest';
import { areDuressNeighbours, checkCode, COMMON_PINS, defaultGeneratedLength, generateCode, weaknessOf, type CodePolicy } from '../../src/core/code-policy.js';
import { Secret } from '../../src/core/secret.js';
import { ValidationError } from '../../src/core/errors.js';

// Each test here pins one rule exactly, so that breaking that rule in the source fails a test
// (issue 21: these were the rules a mutation run showed no test would notice).

/** A random source that plays back the digits of `codes` in order, then fails loudly. */
function scripted(...codes: string[]): { next: () => number; drawn: () => number } {
  const digits = codes.join('').split('').map(Number);
  let at = 0;
  return {
    next: () => {
      if (at >= digits.length) throw new Error('scripted random source exhausted');
      return digits[at++];
    },
    drawn: () => at,
  };
}

function rejection(code: string, policy: CodePolicy, field?: string): ValidationError {
  try {
    if (field === undefined) checkCode(new Secret(code), policy);
    else checkCode(new Secret(code), policy, field);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error(`expected ${code} to be rejected`);
}

const policy: CodePolicy = { minLength: 4, maxLength: 8 };

describe('generated codes are redrawn until they pass (deterministic random source)', () => {
  it('skips a weak draw and a duress neighbour, and returns the first code that passes', () => {
    const random = scripted('1111', '4818', '3851');
    const code = generateCode({ ...policy, duressNeighboursOf: [new Secret('4817')] }, 4, random.next);
    expect(code.reveal()).toBe('3851');
    expect(code.label).toBe('generated code');
    expect(random.drawn()).toBe(12);
  });

  it('skips a code with too few different digits for the policy', () => {
    const random = scripted('383883', '385192');
    expect(generateCode({ ...policy, minDistinctDigits: 3 }, 6, random.next).reveal()).toBe('385192');
  });

  it('skips a duress neighbour that is not weak in itself, across a tens boundary', () => {
    const random = scripted('4820', '7316');
    expect(generateCode({ ...policy, duressNeighboursOf: [new Secret('4819')] }, 4, random.next).reveal()).toBe('7316');
  });

  it('gives up after 1000 draws that all fail, rather than loop forever', () => {
    let draws = 0;
    const alwaysOne = (): number => {
      draws++;
      return 1;
    };
    expect(() => generateCode(policy, 4, alwaysOne)).toThrow('could not generate a code that passes the policy');
    expect(draws).toBe(4000);
  });

  it('draws the panel-preferred length when no length is asked', () => {
    expect(generateCode({ minLength: 4, maxLength: 4 }, undefined, scripted('3851').next).reveal()).toBe('3851');
    expect(generateCode({ minLength: 4, maxLength: 8 }).reveal()).toMatch(/^\d{6}$/);
  });
});

describe('duress neighbours', () => {
  it('counts plus or minus one across a tens boundary, both ways round', () => {
    for (const [a, b] of [
      ['4820', '4819'],
      ['4819', '4820'],
      ['4800', '4799'],
      ['4799', '4800'],
    ]) {
      expect(areDuressNeighbours(a, b), `${a} ${b}`).toBe(true);
    }
  });

  it('needs the same length, even when the numbers are one apart', () => {
    expect(areDuressNeighbours('999', '1000')).toBe(false);
    expect(areDuressNeighbours('1000', '999')).toBe(false);
    expect(areDuressNeighbours('0482', '481')).toBe(false);
  });

  it('wraps the last digit only when everything before it is the same', () => {
    expect(areDuressNeighbours('4817', '5818')).toBe(false);
    expect(areDuressNeighbours('4817', '4918')).toBe(false);
    expect(areDuressNeighbours('4917', '4810')).toBe(false);
    // Last digits 3 and 8 sum to 11: a step of one only if the digits were added instead of subtracted.
    expect(areDuressNeighbours('4813', '4818')).toBe(false);
    expect(areDuressNeighbours('4810', '4819')).toBe(true);
    expect(areDuressNeighbours('4819', '4810')).toBe(true);
  });

  it('is false for anything that is not all digits, on either side and at either end', () => {
    for (const [a, b] of [
      ['x481', '4819'],
      ['4819', 'x481'],
      ['481x', '4819'],
      ['4819', '481x'],
      ['', ''],
      ['4-1', '4-2'],
    ]) {
      expect(areDuressNeighbours(a, b), `${a} ${b}`).toBe(false);
    }
  });

  it('a code must not be next to any one of several known codes', () => {
    const duress = { ...policy, duressNeighboursOf: [new Secret('6392'), new Secret('4817')] };
    expect(rejection('4818', duress).rule).toContain('duress');
    expect(() => checkCode(new Secret('7316'), duress)).not.toThrow();
    expect(() => checkCode(new Secret('7316'), { ...policy, duressNeighboursOf: [] })).not.toThrow();
  });
});

describe('weak codes, by the rule each one breaks', () => {
  it('names the same-digit rule for a repeated digit of any length', () => {
    for (const code of ['777777', '33333', '0000000']) expect(weaknessOf(code), code).toBe('must not be the same digit repeated');
  });

  it('names the straight-run rule for runs up and down, and only for whole runs', () => {
    for (const code of ['345678', '876543', '01234', '98765']) {
      expect(weaknessOf(code), code).toBe('must not be a straight run of digits like 1234 or 9876');
    }
    // Evenly spaced by two is not a run of neighbouring digits.
    for (const code of ['345679', '135790', '876532', '2345671', '02468', '97531']) {
      expect(weaknessOf(code), code).not.toBe('must not be a straight run of digits like 1234 or 9876');
    }
  });

  it('names the common-PIN rule for listed PINs', () => {
    expect(weaknessOf('2580')).toBe('is one of the most common PINs');
    expect(weaknessOf('852456')).toBe('is one of the most common PINs');
  });

  it('lists only 4- and 6-digit PINs', () => {
    expect(COMMON_PINS.size).toBeGreaterThan(80);
    for (const pin of COMMON_PINS) expect(pin).toMatch(/^(\d{4}|\d{6})$/);
  });

  it('counts different digits against the minimum, which defaults to two', () => {
    expect(weaknessOf('383883')).toBeUndefined();
    expect(weaknessOf('383883', 3)).toBe('must use at least 3 different digits');
    expect(weaknessOf('385883', 3)).toBeUndefined();
  });

  it('applies the minimum from the policy and says how to override', () => {
    expect(rejection('383883', { ...policy, minDistinctDigits: 3 }).rule).toBe('must use at least 3 different digits (use --allow-weak to accept it anyway)');
    expect(() => checkCode(new Secret('383883'), policy)).not.toThrow();
  });
});

describe('code shape', () => {
  it('rejects a non-digit at either end', () => {
    for (const code of ['x38519', '38519x']) expect(rejection(code, policy).rule, code).toBe('must contain digits 0-9 only');
  });

  it('accepts the shortest and the longest length allowed', () => {
    expect(() => checkCode(new Secret('3851'), policy)).not.toThrow();
    expect(() => checkCode(new Secret('38519274'), policy)).not.toThrow();
    expect(rejection('385192740', policy).rule).toBe('must be 4 to 8 digits long for this panel');
  });

  it('names a single length, or the list of lengths, the panel takes', () => {
    expect(rejection('38519', { minLength: 6, maxLength: 6 }).rule).toBe('must be 6 digits long for this panel');
    expect(rejection('38519', { minLength: 4, maxLength: 6, allowedLengths: [4, 6] }).rule).toBe('must be 4 or 6 digits long for this panel');
    expect(() => checkCode(new Secret('385192'), { minLength: 4, maxLength: 6, allowedLengths: [4, 6] })).not.toThrow();
  });

  it('names the field "code" unless told otherwise', () => {
    expect(rejection('12a4', policy).field).toBe('code');
    expect(rejection('12a4', policy, 'new code').field).toBe('new code');
  });
});

describe('the generated length a panel prefers', () => {
  it('is the longest allowed length up to six', () => {
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 6, allowedLengths: [4, 6] })).toBe(6);
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 8, allowedLengths: [4, 6, 8] })).toBe(6);
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 8, allowedLengths: [4, 8] })).toBe(4);
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 8, allowedLengths: [5, 4] })).toBe(5);
  });

  it('is the shortest allowed length when all are longer than six', () => {
    expect(defaultGeneratedLength({ minLength: 7, maxLength: 8, allowedLengths: [8, 7] })).toBe(7);
  });

  it('without a list, is six clamped to the panel range', () => {
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 8 })).toBe(6);
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 4 })).toBe(4);
    expect(defaultGeneratedLength({ minLength: 7, maxLength: 8 })).toBe(7);
    expect(defaultGeneratedLength({ minLength: 4, maxLength: 5, allowedLengths: [] })).toBe(5);
  });
});
