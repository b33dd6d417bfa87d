import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  blankCode,
  decodeCode,
  decodeName,
  decodePartitions,
  decodeSlot,
  encodeCode,
  encodeName,
  encodePartitions,
  encodeRecord,
  fromU32,
  listOffsets,
  planReads,
  recordSpan,
  slotAddress,
  slotAt,
  toU32,
} from '../../../drivers/modbus/layout.js';
import { loadProfile } from '../../../drivers/modbus/profile.js';

const demo = (await loadProfile('demo-modbus')).profile;

/** The fewest requests, by exhaustive dynamic programming (independent of planReads' greedy rule). */
function fewestRequests(addresses: number[], max: number): number {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const best: number[] = Array(sorted.length + 1).fill(Infinity);
  best[0] = 0;
  for (let i = 0; i < sorted.length; i++) {
    // One request starting at sorted[i] covers sorted[i..j] when they span at most max registers.
    for (let j = i; j < sorted.length && sorted[j] - sorted[i] < max; j++) best[j + 1] = Math.min(best[j + 1], best[i] + 1);
  }
  return best[sorted.length];
}

describe('read planning', () => {
  it('covers every wanted register with requests of at most max registers', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { maxLength: 60 }), fc.integer({ min: 1, max: 125 }), (addresses, max) => {
        const blocks = planReads(addresses, max);
        for (const a of addresses) expect(blocks.some((b) => a >= b.address && a < b.address + b.count)).toBe(true);
        for (const b of blocks) expect(b.count).toBeLessThanOrEqual(max);
        expect(blocks.length).toBe(fewestRequests(addresses, max));
      }),
      { numRuns: 300 },
    );
  });

  it('reads the demo user table (1,000 slots of 16 registers, 11 listed each) in 125 requests of up to 125, fewer than reading it straight through', () => {
    const offsets = listOffsets(demo.users);
    expect(offsets).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // flags, type, partitions, name: not the code
    const addresses = Array.from({ length: 1000 }, (_, i) => offsets.map((o) => slotAddress(demo.users, i + 1) + o)).flat();
    const blocks = planReads(addresses, 125);
    expect(blocks.length).toBe(fewestRequests(addresses, 125));
    expect(blocks.length).toBe(125); // a request that would end in a slot's unread tail starts at the next slot instead
    expect(blocks.length).toBeLessThan(Math.ceil((999 * 16 + 11) / 125));
  });
});

describe('slot addressing', () => {
  it('maps slots to registers and back', () => {
    expect(slotAddress(demo.users, 1)).toBe(1000);
    expect(slotAddress(demo.users, 1000)).toBe(1000 + 999 * 16);
    expect(slotAt(demo.users, 1016 + 11)).toEqual({ slot: 2, offset: 11 });
    expect(slotAt(demo.users, 999)).toBeUndefined();
    expect(slotAt(demo.users, 17000)).toBeUndefined();
    expect(recordSpan(demo.users)).toEqual({ from: 0, to: 12 });
  });
});

describe('codes in registers', () => {
  const bcd = { offset: 0, registers: 2, encoding: 'bcd' as const, minLength: 4, maxLength: 8, readable: true };
  const ascii = { ...bcd, registers: 4, encoding: 'ascii' as const };
  const u32 = { ...bcd, encoding: 'uint32' as const, minLength: 6, maxLength: 6 };

  it('BCD: a digit per nibble from the high nibble, F after the last', () => {
    expect(encodeCode('1234', bcd, 'high-first')).toEqual([0x1234, 0xffff]);
    expect(encodeCode('012345', bcd, 'high-first')).toEqual([0x0123, 0x45ff]);
    expect(decodeCode([0x0123, 0x45ff], bcd, 'high-first')).toEqual({ kind: 'code', digits: '012345' });
    expect(decodeCode(blankCode(bcd, 'high-first'), bcd, 'high-first')).toEqual({ kind: 'blank' });
    expect(decodeCode([0x12a4, 0xffff], bcd, 'high-first')).toEqual({ kind: 'invalid' }); // A is no digit
    expect(decodeCode([0x12ff, 0x34ff], bcd, 'high-first')).toEqual({ kind: 'invalid' }); // digits after the padding
  });

  it('ASCII digits: two per register, NUL padded', () => {
    expect(encodeCode('04711', ascii, 'high-first')).toEqual([0x3034, 0x3731, 0x3100, 0]);
    expect(decodeCode([0x3034, 0x3731, 0x3100, 0], ascii, 'high-first')).toEqual({ kind: 'code', digits: '04711' });
    expect(decodeCode([0, 0, 0, 0], ascii, 'high-first')).toEqual({ kind: 'blank' });
    expect(decodeCode([0x3034, 0x4100, 0, 0], ascii, 'high-first')).toEqual({ kind: 'invalid' });
  });

  it('32-bit integer of fixed length keeps leading zeros; both word orders', () => {
    expect(encodeCode('012345', u32, 'high-first')).toEqual([0, 12345]);
    expect(encodeCode('912345', u32, 'high-first')).toEqual(fromU32(912345, 'high-first'));
    expect(decodeCode([0, 12345], u32, 'high-first')).toEqual({ kind: 'code', digits: '012345' });
    expect(decodeCode(encodeCode('912345', u32, 'low-first'), u32, 'low-first')).toEqual({ kind: 'code', digits: '912345' });
    expect(toU32(fromU32(0x12345678, 'low-first'), 'low-first')).toBe(0x12345678);
    expect(fromU32(0x12345678, 'low-first')).toEqual([0x5678, 0x1234]);
    expect(decodeCode(fromU32(0xffffffff, 'high-first'), u32, 'high-first')).toEqual({ kind: 'blank' });
    expect(decodeCode(fromU32(1_000_000, 'high-first'), u32, 'high-first')).toEqual({ kind: 'invalid' }); // 7 digits
  });

  it('round-trips any code the spec allows', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{4,8}$/), (digits) => {
        expect(decodeCode(encodeCode(digits, bcd, 'high-first'), bcd, 'high-first')).toEqual({ kind: 'code', digits });
        expect(decodeCode(encodeCode(digits, ascii, 'high-first'), ascii, 'high-first')).toEqual({ kind: 'code', digits });
      }),
      { numRuns: 200 },
    );
  });
});

describe('names, partitions and whole records', () => {
  it('names: two ASCII characters per register, either byte order, NUL padded', () => {
    const high = { offset: 0, registers: 3, encoding: 'ascii' as const, byteOrder: 'high-first' as const };
    const low = { ...high, byteOrder: 'low-first' as const };
    expect(encodeName('Anna', high)).toEqual([0x416e, 0x6e61, 0]);
    expect(encodeName('Anna', low)).toEqual([0x6e41, 0x616e, 0]);
    expect(decodeName([0x6e41, 0x616e, 0], low)).toBe('Anna');
    expect(decodeName([0x41ff, 0x0a00, 0], high)).toBe('A??'); // nothing unprintable reaches a terminal
  });

  it('partitions: bit 0 is partition 1', () => {
    expect(encodePartitions([1, 2, 8], 1, 'high-first')).toEqual([0x83]);
    expect(decodePartitions([0x83], 1, 'high-first')).toEqual([1, 2, 8]);
    expect(decodePartitions(encodePartitions([1, 17, 32], 2, 'high-first'), 2, 'high-first')).toEqual([1, 17, 32]);
  });

  it('encodes a user record and decodes it back; an empty record is not present', () => {
    const span = recordSpan(demo.users);
    const current = Array(span.to - span.from + 1).fill(0);
    const written = encodeRecord(current, demo, { name: 'Cleaner', code: '583016', type: 'duress', partitions: [1, 2] });
    const record = decodeSlot((o) => written[o - span.from], demo);
    expect(record).toEqual({ present: true, enabled: true, hasCode: true, name: 'Cleaner', type: 'duress', partitions: [1, 2] });
    const cleared = encodeRecord(written, demo, undefined);
    expect(decodeSlot((o) => cleared[o - span.from], demo)).toMatchObject({ present: false, hasCode: false, name: '' });
    expect(cleared.slice(11, 13)).toEqual([0xffff, 0xffff]);
  });
});
