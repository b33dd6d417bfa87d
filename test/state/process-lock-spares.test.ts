import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import os from 'node:os';
import fs from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDirPerTest } from '../support/temp-dir.js';
import { acquireLock, processStartTime, removeSpares } from '../../src/state/process-lock.js';

/**
 * Locks taken by the thousand (bulk apply's per-panel work locks) are hard links to spare files of
 * their process, not a new file each: no inode is allocated per lock (ext4 without a journal made
 * each allocation slower than the one before, issue 20). What others see at the lock's name is the
 * same; the spares never pass for locks, go when their process exits, and a dead process's are swept.
 */

const temp = tempDirPerTest('panelctl-spares-');
const processLock = path.resolve(fileURLToPath(new URL('../../dist/src/state/process-lock.js', import.meta.url)));
type Release = () => Promise<void>;

const take = async (file: string) => {
  const got = await acquireLock(file, { waitMs: 0, details: { panel: path.basename(file) }, reuseFiles: true });
  expect(typeof got).toBe('function');
  return got as Release;
};
const spares = async (dir: string) => (await fs.readdir(dir)).filter((n) => n.startsWith('.spare-'));

/** A child process that takes a lock in `dir` with a spare, then exits (or is killed, once it holds it). */
function childTakes(dir: string, how: 'exit' | 'kill'): Promise<void> {
  const code = `const { acquireLock } = await import(${JSON.stringify(processLock)});
    await acquireLock(${JSON.stringify(path.join(dir, 'child.lock'))}, { waitMs: 0, reuseFiles: true });
    process.stdout.write('held\\n');
    ${how === 'exit' ? '' : 'setInterval(() => undefined, 1000);'}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => {
      if (how === 'kill') child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

describe('acquireLock with spare files', () => {
  it('takes lock after lock on one inode: each is a link to the same spare, which holds its owner', async () => {
    const inodes = new Set<number>();
    for (const name of ['a', 'b', 'c', 'd']) {
      const file = path.join(temp.dir, `${name}.lock`);
      const release = await take(file);
      inodes.add(lstatSync(file).ino);
      expect(JSON.parse(await fs.readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, panel: `${name}.lock` });
      await release();
      await expect(fs.lstat(file)).rejects.toThrow();
    }
    expect(inodes.size).toBe(1);
    expect(await spares(temp.dir)).toHaveLength(1);
  });

  it('pads a shorter owner over a longer one instead of truncating: what the name holds is that owner alone', async () => {
    const file = path.join(temp.dir, 'x.lock');
    const long = await acquireLock(file, { waitMs: 0, details: { panel: 'a panel with a long name', ticket: 'T-1234567890' }, reuseFiles: true });
    const longSize = lstatSync(file).size;
    await (long as Release)();
    const short = await take(file);
    const text = await fs.readFile(file, 'utf8');
    expect(text.length).toBe(longSize);
    expect(text).toMatch(/} +$/);
    expect(JSON.parse(text)).toMatchObject({ panel: 'x.lock', pid: process.pid });
    expect(JSON.parse(text).ticket).toBeUndefined();
    await short();
  });

  it('refuses a lock that is held, naming the holder, and uses a spare per lock held at once', async () => {
    const held = await take(path.join(temp.dir, 'a.lock'));
    const again = await acquireLock(path.join(temp.dir, 'a.lock'), { waitMs: 0, reuseFiles: true });
    expect(again).toMatchObject({ heldBy: { pid: process.pid, panel: 'a.lock' } });
    const other = await take(path.join(temp.dir, 'b.lock'));
    expect(lstatSync(path.join(temp.dir, 'a.lock')).ino).not.toBe(lstatSync(path.join(temp.dir, 'b.lock')).ino);
    // The refused attempt's owner never reached the held lock's file.
    expect(JSON.parse(await fs.readFile(path.join(temp.dir, 'a.lock'), 'utf8')).panel).toBe('a.lock');
    await other();
    await held();
    await held(); // a second release gives nothing back twice: the next two locks get two spares
    const [c, d] = [await take(path.join(temp.dir, 'c.lock')), await take(path.join(temp.dir, 'd.lock'))];
    expect(lstatSync(path.join(temp.dir, 'c.lock')).ino).not.toBe(lstatSync(path.join(temp.dir, 'd.lock')).ino);
    await c();
    await d();
    expect(await spares(temp.dir)).toHaveLength(2);
  });

  it("takes over a lock whose owner is gone, linked from a dead process's spare", async () => {
    const file = path.join(temp.dir, 'x.lock');
    const dead = path.join(temp.dir, `.spare-elsewhere-${2 ** 22 + 12345}-1-1`);
    await fs.writeFile(dead, JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), token: 't', since: '' }), { mode: 0o600 });
    await fs.link(dead, file);
    const release = await take(file);
    expect(JSON.parse(await fs.readFile(file, 'utf8')).pid).toBe(process.pid);
    // The dead owner's file itself is left as it was: only the lock's name was taken over.
    expect(JSON.parse(await fs.readFile(dead, 'utf8')).pid).toBe(2 ** 22 + 12345);
    await release();
  });

  it('asks once per process, at exit, to remove its spares', async () => {
    const before = process.listeners('exit').length;
    for (const dir of ['one', 'two']) {
      await fs.mkdir(path.join(temp.dir, dir));
      const [a, b] = [await take(path.join(temp.dir, dir, 'a.lock')), await take(path.join(temp.dir, dir, 'b.lock'))];
      await a();
      await b();
    }
    expect(process.listeners('exit')).toContain(removeSpares);
    expect(process.listeners('exit').length - before).toBeLessThanOrEqual(1);
  });

  it("refuses a spare replaced by a symbolic link, and leaves the link's target alone", async () => {
    await (await take(path.join(temp.dir, 'a.lock')))();
    const [spare] = await spares(temp.dir);
    const target = path.join(temp.dir, 'target.txt');
    await fs.writeFile(target, 'untouched');
    await fs.rm(path.join(temp.dir, spare));
    await fs.symlink(target, path.join(temp.dir, spare));
    await expect(acquireLock(path.join(temp.dir, 'b.lock'), { waitMs: 0, reuseFiles: true })).rejects.toThrow(/ELOOP|EMLINK/);
    expect(await fs.readFile(target, 'utf8')).toBe('untouched');
  });

  it("sweeps only the spares of processes that are gone: a live process's stay, whatever its start time says", async () => {
    const alive = process.ppid;
    const names = {
      live: `.spare-${alive}-${processStartTime(alive) ?? 'x'}-1`,
      liveNoStart: `.spare-${alive}-x-2`,
      reused: `.spare-${alive}-1-3`,
      dead: `.spare-${2 ** 22 + 4321}-x-4`,
      other: 'x-1-1.lock',
    };
    for (const name of Object.values(names)) await fs.writeFile(path.join(temp.dir, name), '', { mode: 0o600 });
    await (await take(path.join(temp.dir, 'a.lock')))();
    const left = await fs.readdir(temp.dir);
    expect(left).toEqual(expect.arrayContaining([names.live, names.liveNoStart, names.other]));
    expect(left).not.toContain(names.dead);
    if (processStartTime(alive)) expect(left).not.toContain(names.reused);
  });

  it('on release, removes the name only while it is still its own spare: a lock someone else made there stays', async () => {
    const file = path.join(temp.dir, 'a.lock');
    const release = await take(file);
    // Taken away (a person removed it) and taken by another process, with a lock file of its own.
    await fs.rm(file);
    const theirs = await acquireLock(file, { waitMs: 0, details: { panel: 'theirs' } });
    expect(typeof theirs).toBe('function');
    await release();
    expect(JSON.parse(await fs.readFile(file, 'utf8')).panel).toBe('theirs');
    // And the spare, given back, takes the next lock.
    await (theirs as Release)();
    await (await take(file))();
    expect(await spares(temp.dir)).toHaveLength(1);
  });

  it('releases a lock whose name was removed meanwhile without an error, and its spare takes the next lock', async () => {
    const file = path.join(temp.dir, 'a.lock');
    const release = await take(file);
    await fs.rm(file);
    await expect(release()).resolves.toBeUndefined();
    await (await take(file))();
    expect(await spares(temp.dir)).toHaveLength(1);
  });

  it('makes a new spare when its spare was removed meanwhile', async () => {
    await (await take(path.join(temp.dir, 'a.lock')))();
    const [first] = await spares(temp.dir);
    await fs.rm(path.join(temp.dir, first));
    const release = await take(path.join(temp.dir, 'b.lock'));
    expect(JSON.parse(await fs.readFile(path.join(temp.dir, 'b.lock'), 'utf8')).panel).toBe('b.lock');
    const now = await spares(temp.dir);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    await release();
  });

  it('removes its spares (at exit), while a lock still held keeps its name until released', async () => {
    const held = await take(path.join(temp.dir, 'a.lock'));
    await (await take(path.join(temp.dir, 'b.lock')))();
    expect(await spares(temp.dir)).toHaveLength(2);
    removeSpares();
    expect(await spares(temp.dir)).toEqual([]);
    expect(JSON.parse(await fs.readFile(path.join(temp.dir, 'a.lock'), 'utf8')).panel).toBe('a.lock');
    await held();
    await expect(fs.lstat(path.join(temp.dir, 'a.lock'))).rejects.toThrow();
    // Taken again afterwards: a new spare.
    await (await take(path.join(temp.dir, 'c.lock')))();
    expect(await spares(temp.dir)).toHaveLength(1);
  });

  it('leaves no spare behind when its process exits, and sweeps those of a process killed while holding a lock', async () => {
    await childTakes(temp.dir, 'exit');
    expect(await spares(temp.dir)).toEqual([]);
    await childTakes(temp.dir, 'kill');
    expect(await spares(temp.dir)).toHaveLength(1);
    // The next process to take a lock there (this one, the first time in this directory) removes it.
    const release = await take(path.join(temp.dir, 'next.lock'));
    await release();
    const left = await spares(temp.dir);
    expect(left).toHaveLength(1);
    expect(left[0]).toContain(`-${process.pid}-${processStartTime(process.pid) ?? 'x'}-`);
  });

  it('is not what a build without spares does: a lock file of its own, without reuseFiles', async () => {
    const file = path.join(temp.dir, 'plain.lock');
    const got = (await acquireLock(file, { waitMs: 0 })) as Release;
    expect(lstatSync(file).nlink).toBe(1);
    expect(await spares(temp.dir)).toEqual([]);
    await got();
  });
});
