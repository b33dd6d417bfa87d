import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secretsIn } from '../support/cli.js';

/** The e2e tests' leak search: a code found by chance inside a hash is not a leak; a code written anywhere else is. */
describe('secretsIn', () => {
  // A SHA-256 that happens to contain "7048" (found by counting up; fixed so the test is stable).
  const hash = (() => {
    for (let i = 0; ; i++) {
      const h = createHash('sha256').update(String(i)).digest('hex');
      if (h.includes('7048')) return h;
    }
  })();

  it('does not report a code that appears only inside a long hex run (a hash, a MAC, a token)', () => {
    expect(secretsIn(`{"hash":"${hash}","prev":"${hash.toUpperCase()}"}`, ['7048'])).toEqual([]);
  });

  it('does not report a code that appears only inside a wall-clock time in ms (a panel contact record)', () => {
    expect(secretsIn('{"lastContactAt":1796063705123.166,"quietUntil":1796063737052}', ['3705'])).toEqual([]);
    // Not a time: 12 or 14 digits, or a code next to one.
    expect(secretsIn('{"n":179606370512}', ['3705'])).toEqual(['37**']);
    expect(secretsIn('{"n":17960637051234}', ['3705'])).toEqual(['37**']);
    expect(secretsIn('code 3705 at 1796063794537', ['3705'])).toEqual(['37**']);
  });

  it('reports a code written as digits in JSON, CSV, a message or next to a hash, masked', () => {
    expect(secretsIn('{"code":"7048"}', ['7048'])).toEqual(['70**']);
    expect(secretsIn('shop,set-code,2,7048', ['7048'])).toEqual(['70**']);
    expect(secretsIn(`${hash} 7048`, ['7048', '5816'])).toEqual(['70**']);
    expect(secretsIn('code 70481234123412341234 (all digits)', ['7048'])).toEqual(['70**']);
  });
});
