import { describe, expect, it } from 'vitest';
import { nameProblem } from '../../src/core/user-name.js';

const integra = { name: 'integra', nameRules: { maxLength: 16, charset: 'windows-1250', charsetTitle: 'Windows-1250' } };
const modbus = { name: 'modbus', nameRules: { maxLength: 8, charset: 'ascii', charsetTitle: 'printable ASCII' } };

describe("user names against a driver's rules", () => {
  it('INTEGRA: Windows-1250 has Polish and Czech letters but not Ø, Å or Æ (Norwegian), and names each one', () => {
    expect(nameProblem('Łukasz Żółć', integra)).toBeUndefined();
    expect(nameProblem('Jiří Dvořák', integra)).toBeUndefined();
    expect(nameProblem('Åse Ødegård', integra)).toBe(
      '"Å" (U+00C5), "Ø" (U+00D8), "å" (U+00E5) are not in Windows-1250, the character set integra panels store names in',
    );
    expect(nameProblem('Sixteen chars ok', integra)).toBeUndefined();
    expect(nameProblem('Seventeen chars!!', integra)).toBe('is 17 characters; integra panels keep at most 16');
  });

  it('Modbus profiles: printable ASCII only (not windows-1252, which WHATWG calls "ascii")', () => {
    expect(nameProblem('Bjorn', modbus)).toBeUndefined();
    expect(nameProblem('Björn', modbus)).toMatch(/^"ö" \(U\+00F6\) is not in printable ASCII/);
    expect(nameProblem('€uro', modbus)).toMatch(/^"€" \(U\+20AC\) is not in printable ASCII/);
  });

  it('no control characters or bidi marks in any name, even without rules', () => {
    expect(nameProblem('a\x1b[2Jb', { name: 'dsc' })).toBe('must not contain control characters (found U+001B)');
    expect(nameProblem('abc\u202e', { name: 'dsc' })).toBe('must not contain control characters (found U+202E)');
  });
});
