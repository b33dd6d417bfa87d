import { beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tempDirPerTest } from '../support/temp-dir.js';
import { acquireLock, processStartTime } from '../../src/state/process-lock.js';

/** The lease lock dies with its process: a dead or recycled owner pid is recognised at once. */

const temp = tempDirPerTest('panelctl-lock-');
let file: string;
beforeEach(() => {
  file = path.join(temp.dir, 'x.lck');
});

const plant = (owner: object) =>
  fs.writeFile(file, JSON.stringify({ host: os.hostname(), token: 'planted', since: new Date().toISOString(), ...owner }), { mode: 0o600 });

describe('acquireLock', () => {
  it('gives up at once on a lock held by a live process, naming it', async () => {
    await plant({ pid: process.pid, start: processStartTime(process.pid) });
    const got = await acquireLock(file, { waitMs: 0 });
    expect(typeof got).toBe('object');
    expect((got as { heldBy: { pid: number } }).heldBy.pid).toBe(process.pid);
  });

  it('takes over at once from an owner whose pid is gone', async () => {
    await plant({ pid: 2 ** 22 + 12345 });
    const got = await acquireLock(file, { waitMs: 0 });
    expect(typeof got).toBe('function');
    expect(JSON.parse(await fs.readFile(file, 'utf8')).pid).toBe(process.pid);
    await (got as () => Promise<void>)();
    await expect(fs.stat(file)).rejects.toThrow();
  });

  it.skipIf(process.platform !== 'linux')('takes over from a pid that now belongs to a younger process', async () => {
    await plant({ pid: process.pid, start: '1' });
    expect(typeof (await acquireLock(file, { waitMs: 0 }))).toBe('function');
  });

  it('never has two holders when many contenders break one stale lock at once, round after round', async () => {
    // Two contenders that both saw the dead owner must not both "break" the lock: the second
    // would remove the first one's fresh lock. Counted over many rounds, never timed.
    const holdersPerRound: number[] = [];
    for (let round = 0; round < 150; round++) {
      await plant({ pid: 2 ** 22 + 12347 });
      const results = await Promise.all(Array.from({ length: 8 }, () => acquireLock(file, { waitMs: 0 })));
      const releases = results.filter((r): r is () => Promise<void> => typeof r === 'function');
      holdersPerRound.push(releases.length);
      for (const release of releases) await release();
      await fs.rm(file, { force: true });
    }
    expect(holdersPerRound.filter((n) => n !== 1)).toEqual([]);
  });

  it('only one of many contenders holds it at a time', async () => {
    await plant({ pid: 2 ** 22 + 12346 });
    const results = await Promise.all(Array.from({ length: 8 }, () => acquireLock(file, { waitMs: 0 })));
    expect(results.filter((r) => typeof r === 'function')).toHaveLength(1);
  });
});
