import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { tempDirPerTest } from '../support/temp-dir.js';
import { FileWorkLocks } from '../../src/state/work-locks.js';

/** The files work locks: one O_EXCL file per panel, in a private directory checked on every acquire. */

const temp = tempDirPerTest('panelctl-worklocks-');

describe('FileWorkLocks', () => {
  it('creates its directory private, refuses a second holder naming the first, and frees the panel on release', async () => {
    const locks = new FileWorkLocks(temp.dir);
    const held = await locks.acquire('tcp://10.0.0.1:7094', { panel: 'shop', command: 'bulk apply', operator: 'anna' });
    expect((await fs.stat(path.dirname(locks.file('tcp://10.0.0.1:7094')))).mode & 0o777).toBe(0o700);
    await expect(locks.acquire('tcp://10.0.0.1:7094', { panel: 'shop' })).rejects.toMatchObject({
      code: 'E_PANEL_LOCKED',
      message: expect.stringContaining('by anna'),
    });
    await held.release();
    await expect(fs.stat(locks.file('tcp://10.0.0.1:7094'))).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await locks.acquire('tcp://10.0.0.1:7094', { panel: 'shop' });
    await again.release();
  });

  it('refuses, on every acquire, a locks directory that others were given access to', async () => {
    const locks = new FileWorkLocks(temp.dir);
    await (await locks.acquire('a', { panel: 'a' })).release();
    await fs.chmod(path.dirname(locks.file('a')), 0o755);
    await expect(locks.acquire('b', { panel: 'b' })).rejects.toMatchObject({ code: 'E_PERMISSIONS' });
  });

  it('keeps when the panel last answered for the next holder (a MAP 5000 paces across processes), a future time as "now"', async () => {
    const locks = new FileWorkLocks(temp.dir);
    const first = await locks.acquire('map', { panel: 'hq' });
    expect(first.lastContactAt).toBeUndefined();
    const minuteAgo = Date.now() - 60_000;
    await first.release({ lastContactAt: minuteAgo });
    const contact = locks.file('map').replace(/\.lock$/, '.contact');
    expect((await fs.stat(contact)).mode & 0o777).toBe(0o600);
    const second = await locks.acquire('map', { panel: 'hq' });
    expect(second.lastContactAt).toBe(minuteAgo);
    // A session that never heard the panel leaves the record as it was.
    await second.release({ lastContactAt: undefined });
    const third = await locks.acquire('map', { panel: 'hq' });
    expect(third.lastContactAt).toBe(minuteAgo);
    await third.release();
    // A garbled record is no record (a hint, never a reason to fail).
    await fs.writeFile(contact, 'not json', { mode: 0o600 });
    const fourth = await locks.acquire('map', { panel: 'hq' });
    expect(fourth.lastContactAt).toBeUndefined();
    await fourth.release();
  });

  it('keeps until when the panel asked to be left alone (a MAP 5000 overload back-off) beside the last answer, for the next holder', async () => {
    const locks = new FileWorkLocks(temp.dir);
    const contact = locks.file('map').replace(/\.lock$/, '.contact');
    const first = await locks.acquire('map', { panel: 'hq' });
    expect(first.quietUntil).toBeUndefined();
    const answered = Date.now() - 1_000;
    const quietUntil = Date.now() + 59_000;
    await first.release({ lastContactAt: answered, quietUntil });
    expect((await fs.stat(contact)).mode & 0o777).toBe(0o600);
    const second = await locks.acquire('map', { panel: 'hq' });
    expect(second).toMatchObject({ lastContactAt: answered, quietUntil });
    // A session that never reached the panel (Ctrl-C during the wait) and reports the rest of the silence keeps the last answer.
    await second.release({ quietUntil });
    const third = await locks.acquire('map', { panel: 'hq' });
    expect(third).toMatchObject({ lastContactAt: answered, quietUntil });
    // A session that heard the panel outside any silence ends the recorded one.
    const later = Date.now();
    await third.release({ lastContactAt: later });
    const fourth = await locks.acquire('map', { panel: 'hq' });
    expect(fourth.lastContactAt).toBe(later);
    expect(fourth.quietUntil).toBeUndefined();
    await fourth.release();
    // A garbled time is no time: the other one still counts.
    await fs.writeFile(contact, JSON.stringify({ lastContactAt: later, quietUntil: 'soon' }), { mode: 0o600 });
    const fifth = await locks.acquire('map', { panel: 'hq' });
    expect(fifth.lastContactAt).toBe(later);
    expect(fifth.quietUntil).toBeUndefined();
    await fifth.release();
  });
});
