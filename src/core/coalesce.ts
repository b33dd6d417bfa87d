/**
 * Wraps an async check so that callers who ask at the same time share runs without learning
 * anything older than they asked for: every caller gets the outcome of a run that STARTED AFTER
 * its call. A caller arriving while a run is under way waits for the next run, which everyone
 * who arrived meanwhile shares. Sixty-four bulk steps asking at once cost two runs, not 64.
 */
export function coalesce(run: (key: string) => Promise<void>): (key: string) => Promise<void> {
  const runs = new Map<string, { running?: Promise<void>; next?: Promise<void> }>();
  const start = (key: string, slot: { running?: Promise<void> }): Promise<void> => {
    const current: Promise<void> = run(key).finally(() => {
      if (slot.running === current) slot.running = undefined;
    });
    slot.running = current;
    return current;
  };
  return (key) => {
    const s = runs.get(key) ?? {};
    runs.set(key, s);
    if (!s.running) return start(key, s);
    // The run under way began before this call: wait for it to end, then share a fresh one.
    s.next ??= s.running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        s.next = undefined;
        return start(key, s);
      });
    return s.next;
  };
}
