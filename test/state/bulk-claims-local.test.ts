import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Claim, claimPanels, liveClaims } from '../../src/bulk/claims.js';
import { planDir } from '../../src/bulk/journal.js';
import { tempDirPerTest } from '../support/temp-dir.js';

/**
 * Bulk claims as files (src/bulk/claims.ts without a shared store), at the two moments another process can step in
 * that no test can time for real: a second apply removing the same dead claim between our read and our removal,
 * and the plan's lock held, past the wait, by a file nobody can read.
 */
const temp = tempDirPerTest('panelctl-claims-local-');
let dir: string;
beforeEach(() => {
  dir = planDir(path.join(temp.dir, 'state'), '0123456789abcdef');
});
afterEach(() => vi.restoreAllMocks());

const DEAD_PID = 2 ** 22 + 4242;

describe('bulk claims as files', () => {
  it('a dead claim that another apply removes first is no error: the run goes on', async () => {
    const claims = path.join(dir, 'claims');
    await fs.mkdir(claims, { recursive: true, mode: 0o700 });
    const dead: Claim = { pid: DEAD_PID, start: 'x', host: os.hostname(), token: 'dead', since: '2026-11-30T08:00:00.000Z', shard: null, panels: ['a'] };
    await fs.writeFile(path.join(claims, 'dead.json'), JSON.stringify(dead), { mode: 0o600 });
    const rm = fs.rm.bind(fs);
    // The other apply's removal lands just before ours.
    vi.spyOn(fs, 'rm').mockImplementationOnce(async (file, options) => {
      await rm(file);
      return rm(file, options);
    });
    expect(await liveClaims(dir)).toEqual([]);
    expect(await fs.readdir(claims)).toEqual([]);
  });

  it('a plan lock still held at the end of the wait by a file nobody can read: refused, exit 4, the holder unknown', async () => {
    await fs.mkdir(dir, { recursive: true });
    const lock = path.join(dir, 'claims.lock');
    await fs.writeFile(lock, 'not a lock owner', { mode: 0o600 });
    // The ten seconds of waiting have passed by the second look at the clock, and the lock file is new then (an
    // unreadable lock file is broken only once it is old: src/state/process-lock.ts).
    const now = Date.now();
    const later = now + 60_000;
    await fs.utimes(lock, later / 1000, later / 1000);
    vi.spyOn(Date, 'now').mockReturnValueOnce(now).mockReturnValue(later);
    await expect(claimPanels(dir, ['a'], { shard: null })).rejects.toMatchObject({
      exitCode: 4,
      code: 'E_PLAN_BUSY',
      message: `could not take the lock of this plan (${lock}), held by process ?`,
    });
  });
});
