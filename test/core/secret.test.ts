import { describe, expect, it } from 'vitest';
import { inspect, format } from 'node:util';
import { Secret, scrubSecrets } from '../../src/core/secret.js';

describe('Secret', () => {
  const secret = new Secret('482913', 'user code');

  it('never shows its value through the usual ways of printing', () => {
    expect(String(secret)).not.toContain('482913');
    expect(`${secret}`).not.toContain('482913');
    expect(JSON.stringify({ secret })).not.toContain('482913');
    expect(inspect(secret, { showHidden: true, depth: 5 })).not.toContain('482913');
    expect(inspect({ nested: { secret } })).not.toContain('482913');
    expect(format('%s %j %o', secret, secret, secret)).not.toContain('482913');
    expect(Object.keys(secret).join()).not.toContain('482913');
  });

  it('gives its value only through reveal()', () => {
    expect(secret.reveal()).toBe('482913');
    expect(secret.length).toBe(6);
  });

  it('compares by value', () => {
    expect(secret.equals(new Secret('482913'))).toBe(true);
    expect(secret.equals(new Secret('482914'))).toBe(false);
    expect(secret.equals(new Secret('48291'))).toBe(false);
  });

  it('scrubs known secret values out of crash text', () => {
    expect(scrubSecrets('failed while sending 482913 to slot 5')).toBe('failed while sending [secret] to slot 5');
  });
});
