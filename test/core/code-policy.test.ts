import { describe, expect, it } from 'vitest';
import { checkCode, generateCode, weaknessOf } from '../../src/core/code-policy.js';
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
});
