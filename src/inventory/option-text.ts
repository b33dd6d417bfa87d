/** A number as typed on a command line: no leading zero (0123 is a code prefix, text), no exponent, no hex. */
export const PLAIN_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/**
 * A KEY=VALUE value read without a schema to say its type (a simulator's `--set`, a driver that declares no options
 * schema): true/false become booleans, plain numbers numbers, and anything else, including digits with a leading
 * zero (a code prefix like 0123), stays text. With a schema, readOptionText (src/driver-kit/options.ts) decides.
 */
export function guessOptionValue(text: string): string | number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  return PLAIN_NUMBER.test(text) ? Number(text) : text;
}
