import { describe, expect, it } from 'vitest';
import { commonCodeForms } from '../support/driver-contract.js';

/** The forms the conformance suite looks for in --debug traces: a code's digits however a hex dump shows them. */
describe('commonCodeForms', () => {
  it('covers the digits, BCD bytes as hex pairs and 16-bit registers, and the ASCII bytes in hex', () => {
    expect(commonCodeForms('739154')).toEqual(['739154', '73 91 54', '7391 54', '373339313534', '37 33 39 31 35 34']);
  });

  it('finds a BCD code in an INTEGRA-style frame dump and an ASCII code in a keypad line', () => {
    const leaks = (line: string, code: string) => commonCodeForms(code).some((form) => line.includes(form));
    expect(leaks('tx e6 ** ** 1e 73 91 54 ff ff', '739154')).toBe(true);
    expect(leaks('tx 200 7391', '7391')).toBe(true);
    expect(leaks('tx e6 ** ** 1e ** ** ** ** ff', '739154')).toBe(false);
  });
});
