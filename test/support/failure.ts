import { expect } from 'vitest';
import { PanelctlError } from '../../src/core/errors.js';

/**
 * What `work` rejected with, which must be a `kind` (PanelctlError unless told): the test fails, showing what came,
 * if it resolved or rejected with anything else.
 */
export async function failure<E extends Error = PanelctlError>(
  work: Promise<unknown>,
  kind: abstract new (...args: never[]) => E = PanelctlError as unknown as abstract new (
    ...args: never[]
  ) => E,
): Promise<E> {
  const outcome = await work.then(
    (value: unknown) => ({ resolvedWith: value }),
    (error: unknown) => error,
  );
  expect(outcome, `expected a rejection with a ${kind.name}`).toBeInstanceOf(kind);
  return outcome as E;
}
