import { describe, expect, it } from 'vitest';
import { areDuressNeighbours, checkCode, generateCode, weaknessOf } from '../../src/core/code-policy.js';
import { Secret } from '../../src/core/secret.js';
import { ValidationError } from '../../src/core/errors.js';

const policy = { minLength: 4, maxLength: 8 };

function failure(code: string, p = policy): ValidationError {
  try {
    checkCode(new Secret(code), p, 'new code');
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('expected a rejection');
}

describe('code policy', () => {
  it('rejects non-digits, naming the field and the rule and never the code', () => {
    const error = failure('12a4');
    expect(error.field).toBe('new code');
    expect(error.message).toBe('new code: must contain digits 0-9 only');
    expect(error.exitCode).toBe(2);
  });

  it('enforces length per panel', () => {
    expect(failure('385').rule).toMatch(/4 to 8 digits/);
    expect(failure('385916', { minLength: 4, maxLength: 6, allowedLengths: [4] } as never).rule).toMatch(/must be 4 digits/);
  });

  it('rejects all-same, straight runs and common PINs unless allowed', () => {
    for (const weak of ['1111', '000000', '1234', '987654', '4567', '2580', '1212', '1990']) {
      expect(weaknessOf(weak), weak).toBeDefined();
      expect(() => checkCode(new Secret(weak), policy)).toThrow(ValidationError);
      expect(() => checkCode(new Secret(weak), { ...policy, allowWeak: true })).not.toThrow();
    }
    for (const fine of ['3851', '482913', '70316', '1357924']) expect(weaknessOf(fine), fine).toBeUndefined();
  });

  it('generates codes that pass the policy, of the length asked, from all digits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const code = generateCode({ minLength: 4, maxLength: 6 }, 6).reveal();
      expect(code).toMatch(/^\d{6}$/);
      expect(weaknessOf(code)).toBeUndefined();
      for (const d of code) seen.add(d);
    }
    expect(seen.size).toBe(10);
  });

  it('knows which codes are one apart for panels that use code plus or minus one as duress', () => {
    for (const [a, b] of [
      ['4817', '4818'],
      ['4818', '4817'],
      ['4819', '4820'],
      ['4819', '4810'],
      ['4810', '4819'],
      ['009999', '010000'],
    ]) {
      expect(areDuressNeighbours(a, b), `${a} ${b}`).toBe(true);
    }
    for (const [a, b] of [
      ['4817', '4817'],
      ['4817', '4819'],
      ['4817', '48170'],
      ['4817', '5817'],
      ['48a7', '48a8'],
    ]) {
      expect(areDuressNeighbours(a, b), `${a} ${b}`).toBe(false);
    }
  });

  it('refuses a code next to a known one, even with --allow-weak, and generates around them', () => {
    const known = [new Secret('4817'), new Secret('6392')];
    const duress = { ...policy, duressNeighboursOf: known };
    expect(failure('4818', duress).rule).toMatch(/must not be another code on this panel plus or minus one: this panel treats that as a duress code/);
    expect(failure('6391', duress).message).not.toMatch(/6391|6392/);
    expect(() => checkCode(new Secret('4816'), { ...duress, allowWeak: true })).toThrow(/duress/);
    expect(() => checkCode(new Secret('4818'), policy)).not.toThrow();
    // Only the last digit varies: all ten candidates except the known code and its two neighbours.
    const crowded = { minLength: 4, maxLength: 4, duressNeighboursOf: [new Secret('5830')] };
    for (let i = 0; i < 200; i++) {
      const code = generateCode(crowded, 4).reveal();
      expect(areDuressNeighbours(code, '5830'), code).toBe(false);
    }
  });
});
