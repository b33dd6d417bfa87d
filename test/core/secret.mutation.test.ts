import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { Secret, SECRET_MASK, scrubSecrets } from '../../src/core/secret.js';

// Each way of printing a Secret is pinned exactly, one at a time: the existing tests check that the value
// does not show, but several of these paths back each other up, so removing one went unnoticed (issue 21).

describe('Secret prints as a mask by every path, each on its own', () => {
  const secret = new Secret('730416', 'user code');

  it('toString()', () => {
    expect(secret.toString()).toBe(SECRET_MASK);
    expect(SECRET_MASK).toBe('[secret]');
  });

  it('toJSON(), so JSON shows the mask and not the object', () => {
    expect(secret.toJSON()).toBe(SECRET_MASK);
    expect(JSON.stringify(secret)).toBe('"[secret]"');
    expect(JSON.stringify({ code: secret })).toBe('{"code":"[secret]"}');
  });

  it('Symbol.toPrimitive', () => {
    expect(secret[Symbol.toPrimitive]()).toBe(SECRET_MASK);
    expect(`${secret}`).toBe(SECRET_MASK);
    expect(String(secret)).toBe(SECRET_MASK);
    expect(`${secret}`).toBe(SECRET_MASK);
  });

  it('util.inspect shows the label only', () => {
    expect(inspect(secret)).toBe('Secret<user code>');
    expect(inspect(new Secret('730417'))).toBe('Secret<code>');
  });
});

describe('scrubSecrets', () => {
  it('masks a longer secret whole even when a shorter one is its prefix, whatever order they were made in', () => {
    new Secret('5093', 'short');
    new Secret('509371', 'long');
    expect(scrubSecrets('sent 509371 then 5093')).toBe('sent [secret] then [secret]');
  });

  it('masks a longer secret whole when a shorter one is its suffix', () => {
    new Secret('8264');
    new Secret('198264');
    new Secret('40198264');
    expect(scrubSecrets('a 40198264 b 198264 c 8264')).toBe('a [secret] b [secret] c [secret]');
  });

  it('masks secrets of three characters or more, and leaves shorter ones (they would mask ordinary numbers)', () => {
    new Secret('k7q');
    new Secret('z9');
    expect(scrubSecrets('k7q z9')).toBe('[secret] z9');
  });

  it('masks every occurrence', () => {
    new Secret('qwx614');
    expect(scrubSecrets('qwx614qwx614 qwx614')).toBe('[secret][secret] [secret]');
  });
});
