import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/core/coalesce.js';

/** A check whose runs the test finishes by hand, recording when each began. */
function controlled() {
  const runs: Array<{ key: string; finish: (error?: Error) => void }> = [];
  const check = (key: string) =>
    new Promise<void>((resolve, reject) => {
      runs.push({ key, finish: (error) => (error ? reject(error) : resolve()) });
    });
  return { runs, check };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('coalesce', () => {
  it('gives every caller a run that began after it called, and shares that run with the others who waited', async () => {
    const { runs, check } = controlled();
    const shared = coalesce(check);
    const settled: string[] = [];
    const first = shared('a').then(() => settled.push('first'));
    await tick();
    expect(runs).toHaveLength(1);
    // These ask while run 1 is under way: run 1 began before them, so they must not get its answer.
    const later = Array.from({ length: 63 }, (_, i) => shared('a').then(() => settled.push(`later${i}`)));
    runs[0].finish();
    await first;
    await tick();
    expect(settled).toEqual(['first']);
    expect(runs).toHaveLength(2); // one fresh run for all 63
    runs[1].finish();
    await Promise.all(later);
    expect(settled).toHaveLength(64);
    expect(runs).toHaveLength(2);
  });

  it('a failed run fails exactly the callers who share it; the next caller gets a fresh run', async () => {
    const { runs, check } = controlled();
    const shared = coalesce(check);
    const one = shared('a');
    await tick();
    const two = shared('a');
    const three = shared('a');
    runs[0].finish(new Error('loosened'));
    await expect(one).rejects.toThrow('loosened');
    await tick();
    runs[1].finish(new Error('still loosened'));
    await expect(two).rejects.toThrow('still loosened');
    await expect(three).rejects.toThrow('still loosened');
    const four = shared('a');
    await tick();
    expect(runs).toHaveLength(3);
    runs[2].finish();
    await expect(four).resolves.toBeUndefined();
  });

  it('keeps keys apart', async () => {
    const { runs, check } = controlled();
    const shared = coalesce(check);
    const a = shared('a');
    const b = shared('b');
    await tick();
    expect(runs.map((r) => r.key)).toEqual(['a', 'b']);
    runs.forEach((r) => r.finish());
    await Promise.all([a, b]);
  });
});
