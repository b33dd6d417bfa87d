import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import type { LockOwner } from '../../src/state/process-lock.js';

// The lease store is otherwise tested only through the binary (test/e2e), which runs dist/: these tests import
// the source so that a mutation run measures them (issue 21).

/** When set, acquireLock reports this answer instead of taking the lock (to test the busy path without waiting). */
let busy: { heldBy: LockOwner | undefined } | undefined;
vi.mock('../../src/state/process-lock.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/state/process-lock.js')>();
  return { ...actual, acquireLock: (async (file, options) => busy ?? actual.acquireLock(file, options)) as typeof actual.acquireLock };
});
const { acquireLock } = await import('../../src/state/process-lock.js');

const leases = await import('../../src/state/leases.js');
const { CLOCK_JUMP_MS, isOverdue, kernelClock, leasesDir, listLeases, LOCKED, overdueReason, readLease, removeLease, windowLeftMs, withLeaseLock, writeLease } =
  leases;
type Lease = import('../../src/state/leases.js').Lease;

const roots: string[] = [];
async function stateDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-leases-'));
  roots.push(dir);
  await fs.chmod(dir, 0o700);
  return dir;
}
afterAll(async () => {
  for (const dir of roots) await fs.rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  busy = undefined;
  vi.restoreAllMocks();
});

/** Descriptors this process has open (Linux), to see that reads and writes close theirs. */
const openDescriptors = () => readdirSync('/proc/self/fd').length;

function lease(panel: string, overrides: Partial<Lease> = {}): Lease {
  return {
    v: 1,
    id: `id-${panel}`,
    panel,
    driver: 'integra',
    from: '2026-01-01T10:00:00.000Z',
    until: '2026-01-01T10:30:00.000Z',
    operator: 'ops',
    station: 'none',
    stationOnTest: false,
    panelTest: 'on',
    phase: 'active',
    ...overrides,
  };
}

describe('lease files', () => {
  it('writes a lease 0600 under <state>/leases, reads it back, and leaves no temporary file', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('shop/1'));
    expect(await readLease(dir, 'shop/1')).toEqual(lease('shop/1'));
    const names = await fs.readdir(leasesDir(dir));
    expect(names).toEqual([`${encodeURIComponent('shop/1')}.json`]);
    expect((await fs.stat(path.join(leasesDir(dir), names[0]))).mode & 0o777).toBe(0o600);
    expect(leasesDir(dir)).toBe(path.join(dir, 'leases'));
  });

  it('replaces a lease as a whole, and removes it (twice is fine)', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('shop'));
    await writeLease(dir, lease('shop', { phase: 'stopping' }));
    expect((await readLease(dir, 'shop'))?.phase).toBe('stopping');
    await removeLease(dir, 'shop');
    await removeLease(dir, 'shop');
    expect(await readLease(dir, 'shop')).toBeUndefined();
  });

  it('reads no lease where there is none, even without a leases folder', async () => {
    expect(await readLease(await stateDir(), 'nowhere')).toBeUndefined();
  });

  it('does not trust a lease others can read, a link, a folder or a file with two names, and says why', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('a'));
    const file = path.join(leasesDir(dir), 'a.json');
    await fs.chmod(file, 0o640);
    await expect(readLease(dir, 'a')).rejects.toThrow(`lease file ${file} is accessible by other users (mode 0640); panelctl does not trust it`);
    await expect(readLease(dir, 'a')).rejects.toMatchObject({
      code: 'E_PERMISSIONS',
      data: { file },
      exitCode: 2,
      hint: 'panelctl writes its leases itself, 0600 and owned by you: look at who put this file there, then remove it',
    });
    await fs.chmod(file, 0o600);

    await fs.link(file, path.join(dir, 'second-name'));
    await expect(readLease(dir, 'a')).rejects.toThrow('has 2 names (hard links)');
    await fs.rm(path.join(dir, 'second-name'));
    expect(await readLease(dir, 'a')).toEqual(lease('a'));

    await fs.symlink(file, path.join(leasesDir(dir), 'b.json'));
    await expect(readLease(dir, 'b')).rejects.toThrow('is a symbolic link');
    await fs.mkdir(path.join(leasesDir(dir), 'c.json'), { mode: 0o700 });
    await expect(readLease(dir, 'c')).rejects.toThrow('is not a regular file');
  });

  it.runIf(process.getuid?.() === 0)('does not trust a lease owned by someone else (run as root, which can give it away)', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('given'));
    const file = path.join(leasesDir(dir), 'given.json');
    await fs.chown(file, 4321, 4321);
    await expect(readLease(dir, 'given')).rejects.toThrow(`lease file ${file} belongs to uid 4321, not to you (uid 0); panelctl does not trust it`);
  });

  it('closes what it opens, reading and writing', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('fd'));
    const before = openDescriptors();
    for (let i = 0; i < 20; i++) {
      await writeLease(dir, lease('fd', { ticket: `T-${i}` }));
      await readLease(dir, 'fd');
    }
    await fs.chmod(path.join(leasesDir(dir), 'fd.json'), 0o644);
    for (let i = 0; i < 20; i++) await readLease(dir, 'fd').catch(() => undefined);
    expect(openDescriptors()).toBe(before);
  });

  it('passes on an unexpected error opening a lease', async () => {
    const dir = await stateDir();
    await fs.writeFile(path.join(dir, 'leases'), 'not a folder', { mode: 0o600 });
    await expect(readLease(dir, 'x')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('listing leases', () => {
  it('is empty without a leases folder', async () => {
    expect(await listLeases(await stateDir())).toEqual([]);
  });

  it('lists every lease by the end of its window, skipping other files and half-written leases', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('late', { until: '2026-01-01T12:00:00.000Z' }));
    await writeLease(dir, lease('early', { until: '2026-01-01T10:05:00.000Z' }));
    await writeLease(dir, lease('middle', { until: '2026-01-01T11:00:00.000Z' }));
    await fs.writeFile(path.join(leasesDir(dir), 'torn.json'), '{"v":1,"pan', { mode: 0o600 });
    await fs.writeFile(path.join(leasesDir(dir), 'notes.txt'), '{}', { mode: 0o600 });
    await fs.writeFile(path.join(leasesDir(dir), 'late.json.lck'), '{}', { mode: 0o600 });
    expect((await listLeases(dir)).map((l) => l.panel)).toEqual(['early', 'middle', 'late']);
  });

  it('stops at a lease it does not trust, naming it', async () => {
    const dir = await stateDir();
    await writeLease(dir, lease('ok'));
    await fs.writeFile(path.join(leasesDir(dir), 'planted.json'), JSON.stringify(lease('planted')), { mode: 0o644 });
    await fs.chmod(path.join(leasesDir(dir), 'planted.json'), 0o644);
    await expect(listLeases(dir)).rejects.toThrow(/planted\.json is accessible by other users/);
  });

  it('passes on an unexpected error reading the folder', async () => {
    const dir = await stateDir();
    await fs.writeFile(path.join(dir, 'leases'), 'not a folder', { mode: 0o600 });
    await expect(listLeases(dir)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('the test window', () => {
  const from = Date.parse('2026-01-01T10:00:00.000Z');
  const thirty = lease('w');

  it('counts down by the wall clock', () => {
    expect(windowLeftMs(thirty, from)).toBe(30 * 60_000);
    expect(windowLeftMs(thirty, from + 10 * 60_000)).toBe(20 * 60_000);
    expect(windowLeftMs(thirty, from + 31 * 60_000)).toBe(-60_000);
  });

  it('is over at its end, not a moment before; a stop that began is overdue at once', () => {
    expect(overdueReason(thirty, from + 30 * 60_000 - 1)).toBeUndefined();
    expect(overdueReason(thirty, from + 30 * 60_000)).toBe('window-over');
    expect(overdueReason({ ...thirty, phase: 'stopping' }, from)).toBe('end-unconfirmed');
    expect(isOverdue(thirty, from + 30 * 60_000 - 1)).toBe(false);
    expect(isOverdue(thirty, from + 30 * 60_000)).toBe(true);
  });

  it('records the kernel clock of this boot', () => {
    const clock = kernelClock();
    expect(clock?.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(clock?.uptime).toBeGreaterThan(0);
    expect(Math.abs((clock?.uptime ?? 0) - os.uptime())).toBeLessThan(5);
  });

  it('goes by the kernel clock when it and the wall clock differ by more than CLOCK_JUMP_MS, on the same boot only', () => {
    const clock = kernelClock();
    if (!clock) return; // no /proc: nothing to compare with
    vi.spyOn(os, 'uptime').mockReturnValue(5000);
    // The kernel says 10 minutes passed since the start.
    const started = { ...thirty, clock: { bootId: clock.bootId, uptime: 5000 - 600 } };
    // The wall clock says an hour: it jumped, so the kernel's 10 minutes count.
    expect(windowLeftMs(started, from + 60 * 60_000)).toBe(20 * 60_000);
    expect(windowLeftMs({ ...started, clock: { bootId: 'another-boot', uptime: 5000 - 600 } }, from + 60 * 60_000)).toBe(-30 * 60_000);
    // The wall clock says 10 minutes and 10 s, or exactly CLOCK_JUMP_MS more than the kernel: it is believed.
    expect(windowLeftMs(started, from + 610_000)).toBe(30 * 60_000 - 610_000);
    expect(windowLeftMs(started, from + 600_000 + CLOCK_JUMP_MS)).toBe(30 * 60_000 - 600_000 - CLOCK_JUMP_MS);
    expect(windowLeftMs(started, from + 600_000 + CLOCK_JUMP_MS + 1)).toBe(20 * 60_000);
    expect(CLOCK_JUMP_MS).toBe(30_000);
  });
});

describe('the lease lock', () => {
  it('runs the work holding the lock, and frees it afterwards, also when the work fails', async () => {
    const dir = await stateDir();
    const lockFile = path.join(leasesDir(dir), 'shop.json.lck');
    expect(await withLeaseLock(dir, 'shop', { wait: false }, async () => (await fs.stat(lockFile)).isFile())).toBe(true);
    await expect(fs.stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(withLeaseLock(dir, 'shop', { wait: false }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(fs.stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a sweep (no wait) passes over a panel whose lock a live process holds, at once', async () => {
    const dir = await stateDir();
    await fs.mkdir(leasesDir(dir), { mode: 0o700 });
    const release = await acquireLock(path.join(leasesDir(dir), 'shop.json.lck'), { waitMs: 0 });
    expect(typeof release).toBe('function');
    const work = vi.fn(async () => 'ran');
    expect(await withLeaseLock(dir, 'shop', { wait: false }, work)).toBe(LOCKED);
    expect(work).not.toHaveBeenCalled();
    await (release as () => Promise<void>)();
    expect(await withLeaseLock(dir, 'shop', { wait: false }, work)).toBe('ran');
  });

  it('a command that waited in vain says who holds the lock, when it can tell', async () => {
    const dir = await stateDir();
    const work = vi.fn(async () => 'ran');
    busy = { heldBy: { pid: 4242, host: os.hostname(), token: 't', since: '2026-01-01T10:00:00.000Z' } };
    await expect(withLeaseLock(dir, 'shop', { wait: true }, work)).rejects.toMatchObject({
      code: 'E_LEASE_BUSY',
      message: 'another panelctl (pid 4242, since 2026-01-01T10:00:00.000Z) is starting or stopping test mode on shop right now',
      hint: 'wait for it to finish, then run `panelctl test-mode status`',
    });
    busy = { heldBy: undefined };
    await expect(withLeaseLock(dir, 'shop', { wait: true }, work)).rejects.toThrow(/^another panelctl is starting or stopping test mode on shop right now$/);
    expect(work).not.toHaveBeenCalled();
  });
});
