import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha256Hex } from '../../src/core/sha256.js';

/**
 * Work-lock files are named by this digest (src/state/work-locks.ts): a panelctl that names them differently
 * from node:crypto's SHA-256 would not see the locks an older version on the same machine holds.
 */
const nodeSha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sha256Hex', () => {
  it("is node:crypto's SHA-256 for the standard vectors and at every padding boundary", () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    // 55, 56 and 64 bytes: where the length field moves into a block of its own.
    for (let length = 0; length <= 200; length++) expect(sha256Hex('x'.repeat(length))).toBe(nodeSha256('x'.repeat(length)));
  });

  it("is node:crypto's SHA-256 of the UTF-8 bytes for any text, lock keys as the work locks make them among it", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 })),
        (text) => {
          expect(sha256Hex(text)).toBe(nodeSha256(text));
        },
      ),
      { numRuns: 500 },
    );
    for (const key of [
      'integra|tcp://10.0.0.1:7094',
      'modbus|serial:///dev/ttyUSB0?baud=9600#unit=1',
      'map5000|https://panel.example:443',
      '\u017c\u00f3\u0142w',
    ]) {
      expect(sha256Hex(key)).toBe(nodeSha256(key));
    }
  });
});
