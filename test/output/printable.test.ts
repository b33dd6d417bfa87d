import { describe, expect, it } from 'vitest';
import { printable, printableJson, printableMessage, printableRow } from '../../src/output/printable.js';

describe('printable', () => {
  it('shows C0, ESC, DEL, C1 and bidi marks as visible escapes', () => {
    expect(printable('a\x1b[2Jb\x07\x7f\x9b\u202ec\nd')).toBe('a\\x1b[2Jb\\x07\\x7f\\x9b\\u202ec\\x0ad');
  });

  it('leaves ordinary text alone, accents and all', () => {
    expect(printable('Bjørn Ødegård, Łódź')).toBe('Bjørn Ødegård, Łódź');
  });

  it('keeps panelctl colours in a message when colour is on, and nothing else', () => {
    expect(printableMessage('\x1b[32m✓\x1b[39m added "\x1b]0;t\x07"\n', true)).toBe('\x1b[32m✓\x1b[39m added "\\x1b]0;t\\x07"\n');
    expect(printableMessage('\x1b[8mhidden\x1b[2J', true)).toBe('\\x1b[8mhidden\\x1b[2J');
    expect(printableMessage('\x1b[32m✓', false)).toBe('\\x1b[32m✓');
  });

  it('copies rows with every string made printable, other values kept', () => {
    expect(printableRow({ slot: 1, name: '\x1b]52;c;x\x07', partitions: [1], tags: { a: '\r' } })).toEqual({
      slot: 1,
      name: '\\x1b]52;c;x\\x07',
      partitions: [1],
      tags: { a: '\\x0d' },
    });
  });

  it('copies a row only where it has something to escape, and never changes the row it was given', () => {
    const clean = { slot: 1, name: 'Anna', partitions: [1, 2], lease: { notices: [{ event: 'test.start' }] } };
    expect(printableRow(clean)).toBe(clean);
    const row = { slot: 2, name: 'Bob', lease: { operator: 'x\x1b[2J', notices: [{ event: 'test.start' }] } };
    const safe = printableRow(row);
    expect(safe).toEqual({ slot: 2, name: 'Bob', lease: { operator: 'x\\x1b[2J', notices: [{ event: 'test.start' }] } });
    expect(row.lease.operator).toBe('x\x1b[2J');
    expect(safe.lease.notices).toBe(row.lease.notices);
    const list = ['a', 'b\r'];
    expect(printableRow(list)).toEqual(['a', 'b\\x0d']);
    expect(list).toEqual(['a', 'b\r']);
  });

  it('escapes DEL, C1 and bidi in JSON so it parses back to the same string', () => {
    const value = { name: 'a\x7f\x9b\u202eb' };
    const json = printableJson(JSON.stringify(value));
    expect(json).not.toMatch(/[\x7f-\x9f\u202e]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});
