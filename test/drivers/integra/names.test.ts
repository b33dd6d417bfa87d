import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { decodeName, encodeName } from '../../../drivers/integra/messages.js';

/**
 * Names skip the Windows-1250 code table when they are plain ASCII (loading it costs start-up
 * time). Both paths must give exactly what the code table gives.
 */
const reference = {
  encode(name: string): Buffer {
    const out = Buffer.alloc(16, 0x20);
    iconv.encode(name, 'win1250').copy(out, 0, 0, 16);
    return out;
  },
  decode: (bytes: Uint8Array) => iconv.decode(Buffer.from(bytes), 'win1250').replace(/[\s\0]+$/, ''),
};
const win1250Chars = [...iconv.decode(Buffer.from(Array.from({ length: 256 }, (_, i) => i)), 'win1250')];

describe('INTEGRA names in Windows-1250', () => {
  it('encode as the code table does, ASCII or not', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.array(fc.constantFrom(...win1250Chars), { maxLength: 20 }).map((c) => c.join('')),
        ),
        (name) => {
          expect(encodeName(name)).toEqual(reference.encode(name));
        },
      ),
    );
  });

  it('decode as the code table does, ASCII or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16, max: 0x7f }), (any, ascii) => {
        expect(decodeName(any)).toBe(reference.decode(any));
        expect(decodeName(ascii)).toBe(reference.decode(ascii));
      }),
    );
  });
});
