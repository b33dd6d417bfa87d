import { vi } from 'vitest';

/**
 * A clock of the test's own for code that waits with setTimeout and reads Date.now: each pause moves the clock on
 * by what was asked and returns at once, so a ten-second wait takes no time and nothing is timed. Returns the pauses
 * asked for, in order. Undo with vi.restoreAllMocks(). Connect sockets first: connecting has timers of its own.
 */
export function ownClock(): number[] {
  let now = Date.now();
  vi.spyOn(Date, 'now').mockImplementation(() => now);
  const pauses: number[] = [];
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((done: () => void, ms: number) => {
    pauses.push(ms);
    now += ms;
    setImmediate(done);
    return 0;
  }) as never);
  return pauses;
}
