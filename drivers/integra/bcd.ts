/**
 * The digit fields of the user-management commands (pages 13-17): BCD, one digit per nibble,
 * high nibble first, unused nibbles 0xF. Pure.
 *   requester code, 4-byte form:  code only           '1234'        -> 12 34 FF FF
 *   requester code, 8-byte form:  prefix + code       '987' '1234'  -> 98 71 23 4F FF FF FF FF
 *   new user code (0xE6/0xE7):    4 bytes, up to 8 digits
 *   telephone code:               2 bytes, 4 digits, or FF FF for "none" / "no change"
 */

export const NO_PHONE_CODE = Buffer.from([0xff, 0xff]);

/** Packs digits into `size` bytes, padding with 0xF nibbles. */
export function encodeDigits(digits: string, size: number): Buffer {
  if (!/^\d*$/.test(digits) || digits.length > size * 2) throw new RangeError(`expected at most ${size * 2} digits`);
  // Digits 0-9 padded with F nibbles, high nibble first, is exactly their hexadecimal reading.
  return Buffer.from(digits.padEnd(size * 2, 'f'), 'hex');
}

/** Reads digits up to the first nibble that is not 0-9 (the padding). */
export function decodeDigits(bytes: Uint8Array): string {
  let digits = '';
  for (const b of bytes) {
    for (const nibble of [b >> 4, b & 0x0f]) {
      if (nibble > 9) return digits;
      digits += String(nibble);
    }
  }
  return digits;
}

/** The requester's code: 8-byte prefix + code (the form page 13 recommends) or 4-byte code only. */
export function encodeRequesterCode(code: string, prefix = '', form: 4 | 8 = 8): Buffer {
  return encodeDigits(prefix + code, form);
}

/** The code of a user being created or changed: always the 4-byte field (page 15). */
export function encodeUserCode(code: string): Buffer {
  return encodeDigits(code, 4);
}

/** A telephone code is exactly four digits (page 17); undefined means none / no change. */
export function encodePhoneCode(phone?: string): Buffer {
  if (phone === undefined) return NO_PHONE_CODE;
  if (!/^\d{4}$/.test(phone)) throw new RangeError('a telephone code is four digits');
  return encodeDigits(phone, 2);
}

/** The telephone code in a 2-byte field, or undefined for FF FF. */
export function decodePhoneCode(bytes: Uint8Array): string | undefined {
  const digits = decodeDigits(bytes);
  return digits.length === 4 ? digits : undefined;
}
