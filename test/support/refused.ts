import { expect } from 'vitest';

/** A command run with `-o json` refused its input: exit 2, an E_INVALID error naming `field`, its rule matching `why`. */
export function expectRefused(result: { code: number | null; stderr: string }, field: string, why: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  const error = JSON.parse(result.stderr).error;
  expect(error).toMatchObject({ errorCode: 'E_INVALID', field });
  expect(error.rule).toMatch(why);
}
