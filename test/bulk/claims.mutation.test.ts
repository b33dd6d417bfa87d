import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Claim, claimPanels, describeClaim, liveClaims } from '../../src/bulk/claims.js';
import { planDir } from '../../src/bulk/journal.js';
import { localTime } from '../../src/output/time.js';
import { processStartTime } from '../../src/state/process-lock.js';
import { tempDirPerTest } from '../support/temp-dir.js';

// Which bulk apply owns which panels, rule by rule (issue 21 mutation floor): input.test.ts checks overlap,
// disjoint shards and a killed holder together; here the claim file, its removal, the message naming the
// holder and the plan lock around the comparison are pinned one at a time.

const temp = tempDirPerTest('panelctl-claims-');
let dir: string;
let claims: string;
beforeEach(() => {
  dir = planDir(path.join(temp.dir, 'state'), '0123456789abcdef');
  claims = path.join(dir, 'claims');
});

const DEAD_PID = 2 ** 22 + 4242;
const claim = (extra: Partial<Claim> = {}): Claim => ({
  pid: process.pid,
  start: processStartTime(process.pid),
  host: os.hostname(),
  token: 'other',
  since: '2026-11-30T08:00:00.000Z',
  shard: null,
  panels: ['a'],
  ...extra,
});
const plant = async (name: string, content: object | string) => {
  await fs.mkdir(claims, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(claims, name), typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
};

describe('describeClaim', () => {
  it('names the shard, process, host, operator, ticket and start of the run', () => {
    expect(describeClaim(claim({ pid: 12, host: 'desk-3', shard: '1/4', operator: 'anna', ticket: 'T-9' }))).toBe(
      `--shard 1/4 (process 12, on desk-3, by anna, ticket T-9, since ${localTime('2026-11-30T08:00:00.000Z')})`,
    );
  });

  it('says unsharded, and leaves out what the claim does not name', () => {
    expect(describeClaim(claim({ pid: 12, host: '' }))).toBe(`unsharded (process 12, since ${localTime('2026-11-30T08:00:00.000Z')})`);
  });
});

describe('liveClaims', () => {
  it('is empty for a plan no apply has claimed', async () => {
    expect(await liveClaims(dir)).toEqual([]);
  });

  it('lists the live claims, skips other files and unreadable ones, and removes the file of a dead process', async () => {
    await plant('live.json', claim({ token: 'live' }));
    await plant('dead.json', claim({ token: 'dead', pid: DEAD_PID }));
    await plant('notes.txt', claim({ token: 'not-a-claim' }));
    await plant('garbled.json', '{"pid": ');
    expect((await liveClaims(dir)).map((c) => c.token)).toEqual(['live']);
    expect((await fs.readdir(claims)).sort()).toEqual(['garbled.json', 'live.json', 'notes.txt']);
  });
});

describe('claimPanels', () => {
  it('writes a private claim naming this process, its shard, operator, ticket and panels; release removes it', async () => {
    const release = await claimPanels(dir, ['a', 'b'], { shard: '0/2', operator: 'anna', ticket: 'T-1' });
    const names = await fs.readdir(claims);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^[0-9a-f]{24}\.json$/);
    const file = path.join(claims, names[0]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(claims)).mode & 0o777).toBe(0o700);
    const written = JSON.parse(await fs.readFile(file, 'utf8'));
    expect(written).toMatchObject({ command: 'bulk apply', pid: process.pid, shard: '0/2', operator: 'anna', ticket: 'T-1', panels: ['a', 'b'] });
    expect(names[0]).toBe(`${written.token}.json`);
    expect(await liveClaims(dir)).toEqual([written]);
    // The plan's lock is held only while claims are compared.
    await expect(fs.stat(path.join(dir, 'claims.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    await release();
    expect(await fs.readdir(claims)).toEqual([]);
  });

  it('refuses a run sharing a panel with a live claim, naming the holder, exit 4, and writes nothing', async () => {
    await plant(
      'held.json',
      claim({ pid: process.pid, host: 'desk-3', shard: '0/2', operator: 'anna', ticket: 'T-9', command: 'bulk apply', panels: ['x', 'b'] }),
    );
    const refusal = claimPanels(dir, ['a', 'b'], { shard: null });
    await expect(refusal).rejects.toMatchObject({
      exitCode: 4,
      code: 'E_PLAN_BUSY',
      message: `another apply of this plan is running on 1 of the same panel(s) (b): ${describeClaim(claim({ pid: process.pid, host: 'desk-3', shard: '0/2', operator: 'anna', ticket: 'T-9' }))}; nothing was done`,
      hint: expect.stringContaining('--shard 0/4 and --shard 1/4'),
      data: {
        holder: { pid: process.pid, host: 'desk-3', shard: '0/2', since: '2026-11-30T08:00:00.000Z', operator: 'anna', ticket: 'T-9', command: 'bulk apply' },
      },
    });
    expect(await fs.readdir(claims)).toEqual(['held.json']);
    await expect(fs.stat(path.join(dir, 'claims.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('names up to three shared panels, then ...', async () => {
    await plant('held.json', claim({ panels: ['a', 'b', 'c', 'd'] }));
    await expect(claimPanels(dir, ['a', 'b', 'c'], { shard: null })).rejects.toThrow(/on 3 of the same panel\(s\) \(a, b, c\): /);
    await expect(claimPanels(dir, ['d', 'c', 'b', 'a'], { shard: null })).rejects.toThrow(/on 4 of the same panel\(s\) \(a, b, c, \.\.\.\): /);
  });

  it('release may run twice, or after the claim file is gone', async () => {
    const release = await claimPanels(dir, ['a'], { shard: null });
    await release();
    await expect(release()).resolves.toBeUndefined();
  });

  it('two runs finding the same dead claim at once both go on (one removes it, the other finds it gone)', async () => {
    await plant('dead.json', claim({ pid: DEAD_PID, token: 'dead', panels: ['a'] }));
    expect(await Promise.all([liveClaims(dir), liveClaims(dir)])).toEqual([[], []]);
    expect(await fs.readdir(claims)).toEqual([]);
  });

  it('runs beside a live claim on other panels, and after a dead one', async () => {
    await plant('held.json', claim({ panels: ['x'] }));
    await plant('dead.json', claim({ pid: DEAD_PID, token: 'dead', panels: ['a'] }));
    const release = await claimPanels(dir, ['a'], { shard: null });
    expect((await liveClaims(dir)).map((c) => c.panels)).toEqual(expect.arrayContaining([['x'], ['a']]));
    await release();
  });

  it('waits for the plan lock while another run compares claims, and refuses naming it when it is never let go', async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'claims.lock'), JSON.stringify(claim({ pid: process.pid, token: 'comparing' })), { mode: 0o600 });
    await expect(claimPanels(dir, ['a'], { shard: null })).rejects.toMatchObject({
      exitCode: 4,
      code: 'E_PLAN_BUSY',
      message: `could not take the lock of this plan (${path.join(dir, 'claims.lock')}), held by process ${process.pid}`,
    });
  }, 30_000);
});
