/**
 * How long ago the previous session on a panel had its last answer (OpenOptions.lastContactAt), for a
 * driver that must leave an interval between an answer and its next request. The time was recorded by
 * another process, on the wall clock (the one clock two processes share), and that clock can be stepped:
 * a time in the future is taken as "just now", so the wait is never longer than the interval itself.
 */
export function sinceLastContact(lastContactAt: number | undefined, now: number = Date.now()): number | undefined {
  if (lastContactAt === undefined || !Number.isFinite(lastContactAt)) return undefined;
  return Math.max(0, now - lastContactAt);
}

/**
 * How long the panel must still be left alone after the previous session's silence (OpenOptions.quietUntil),
 * or undefined when it is over or none was recorded. Like the contact time it is a hint on a wall clock that
 * can be stepped: the wait is never longer than `longestMs`, the silence the driver itself keeps.
 */
export function quietLeft(quietUntil: number | undefined, longestMs: number, now: number = Date.now()): number | undefined {
  if (quietUntil === undefined || !Number.isFinite(quietUntil) || quietUntil <= now) return undefined;
  return Math.min(quietUntil - now, Math.max(0, longestMs));
}
