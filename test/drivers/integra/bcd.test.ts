import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeDigits, decodePhoneCode, encodeDigits, encodePhoneCode, encodeRequesterCode, encodeUserCode } from '../../../drivers/integra/bcd.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('INTEGRA BCD code fields', () => {
  it('page 13: the requester code in its 4-byte and 8-byte forms', () => {
    expect(encodeRequesterCode('1234', '', 4)).toEqual(hex('12 34 FF FF'));
    expect(encodeRequesterCode('1234', '987')).toEqual(hex('98 71 23 4F FF FF FF FF'));
    expect(encodeRequesterCode('1234')).toEqual(hex('12 34 FF FF FF FF FF FF'));
    expect(decodeDigits(hex('98 71 23 4F FF FF FF FF'))).toBe('9871234');
  });

  it('page 17: a new user code of five digits', () => {
    expect(encodeUserCode('12347')).toEqual(hex('12 34 7F FF'));
    expect(encodeUserCode('12345678')).toEqual(hex('12 34 56 78'));
    expect(() => encodeUserCode('123456789')).toThrow(RangeError);
    expect(() => encodeUserCode('12a4')).toThrow(RangeError);
  });

  it('pages 15 and 17: telephone codes are four digits or FF FF', () => {
    expect(encodePhoneCode('1234')).toEqual(hex('12 34'));
    expect(encodePhoneCode()).toEqual(hex('FF FF'));
    expect(decodePhoneCode(hex('05 09'))).toBe('0509');
    expect(decodePhoneCode(hex('FF FF'))).toBeUndefined();
    expect(() => encodePhoneCode('123')).toThrow(RangeError);
  });

  it('property: digits survive a round trip in a field big enough for them', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{0,16}$/), (digits) => {
        expect(decodeDigits(encodeDigits(digits, 8))).toBe(digits);
      }),
    );
  });
});
