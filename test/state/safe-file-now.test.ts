import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { appendNow, checkPrivateFileNow, openPrivateAppendNow, readPrivateFileNow, replacePrivateFileNow, syncNow } from '../../src/state/safe-file.js';

/**
 * The synchronous twins the audit log uses for every bulk step (issue 20) keep the rules of
 * safe-file.ts: checked on the open descriptor, no link followed, a regular 0600 file of the
 * caller's with one link, and a FIFO planted at the name never hangs the process.
 */

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-safe-now-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const file = (name: string, text = 'x\n', mode = 0o600) => {
  const p = path.join(dir, name);
  return fs.writeFile(p, text, { mode }).then(() => fs.chmod(p, mode).then(() => p));
};

describe('readPrivateFileNow', () => {
  it('reads a private file, and refuses a link, a file others can read, one over the limit and a FIFO', async () => {
    expect(readPrivateFileNow(await file('key', 'secret\n'), 'state key')).toBe('secret\n');
    const link = path.join(dir, 'link');
    await fs.symlink(path.join(dir, 'key'), link);
    expect(() => readPrivateFileNow(link, 'state key')).toThrow(
      expect.objectContaining({ code: 'E_PERMISSIONS', message: expect.stringMatching(/symbolic link/) }),
    );
    expect(() => readPrivateFileNow(path.join(dir, 'nope'), 'state key')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const open = await file('open', 'x\n', 0o644);
    expect(() => readPrivateFileNow(open, 'state key')).toThrow(expect.objectContaining({ code: 'E_PERMISSIONS' }));
    const big = await file('big', 'x'.repeat(100));
    expect(() => readPrivateFileNow(big, 'audit head', 10)).toThrow(expect.objectContaining({ code: 'E_TOO_BIG' }));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(() => readPrivateFileNow(fifo, 'state key')).toThrow(expect.objectContaining({ message: expect.stringMatching(/not a regular file/) }));
  });
});

describe('openPrivateAppendNow, appendNow and syncNow', () => {
  it('appends to an existing private file; undefined when there is none; refuses a link, a loosened file or a second link', async () => {
    const log = await file('audit.jsonl', 'one\n');
    const fd = openPrivateAppendNow(log, 'audit log') as number;
    try {
      appendNow(fd, 'two\n');
      await syncNow(fd);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo\n');
    expect(openPrivateAppendNow(path.join(dir, 'none'), 'audit log')).toBeUndefined();
    await fs.symlink(log, path.join(dir, 'link'));
    expect(() => openPrivateAppendNow(path.join(dir, 'link'), 'audit log')).toThrow(expect.objectContaining({ code: 'E_PERMISSIONS' }));
    await fs.link(log, path.join(dir, 'hard'));
    expect(() => openPrivateAppendNow(log, 'audit log')).toThrow(expect.objectContaining({ message: expect.stringMatching(/2 hard links/) }));
    expect(() => openPrivateAppendNow(path.join(dir, 'hard'), 'audit log')).toThrow(expect.objectContaining({ code: 'E_PERMISSIONS' }));
    await fs.rm(path.join(dir, 'hard'));
    await fs.chmod(log, 0o640);
    expect(() => openPrivateAppendNow(log, 'audit log')).toThrow(expect.objectContaining({ code: 'E_PERMISSIONS' }));
  });
});

describe('replacePrivateFileNow', () => {
  it('replaces a file whole with a new 0600 one, and replaces a planted link instead of writing through it', async () => {
    const head = await file('audit.head.json', 'old');
    await replacePrivateFileNow(head, 'new', 'audit head');
    expect(readFileSync(head, 'utf8')).toBe('new');
    expect((await fs.stat(head)).mode & 0o777).toBe(0o600);
    const target = await file('elsewhere', 'theirs');
    const planted = path.join(dir, 'planted');
    await fs.symlink(target, planted);
    await replacePrivateFileNow(planted, 'mine', 'audit head');
    expect(readFileSync(target, 'utf8')).toBe('theirs');
    expect((await fs.lstat(planted)).isFile()).toBe(true);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('with `after`, the new content takes the name only once `after` has settled, and not at all when it fails', async () => {
    const head = await file('audit.head.json', 'old');
    let logOnDisk!: () => void;
    const synced = new Promise<void>((resolve) => (logOnDisk = resolve));
    const replaced = replacePrivateFileNow(head, 'new', 'audit head', { after: synced });
    // The temp file is written and synced meanwhile; the name still holds the old head.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readFileSync(head, 'utf8')).toBe('old');
    logOnDisk();
    await replaced;
    expect(readFileSync(head, 'utf8')).toBe('new');

    const failed = replacePrivateFileNow(head, 'newer', 'audit head', { after: Promise.reject(new Error('EIO: the log could not be synced')) });
    await expect(failed).rejects.toThrow('EIO');
    expect(readFileSync(head, 'utf8')).toBe('new');
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('replacePrivateFileNow with slots (the audit head, a panel contact record)', () => {
  const inode = async (p: string) => (await fs.stat(p)).ino;

  it('takes the new content from a slot: no inode made or freed after the first two, the name always whole', async () => {
    const head = await file('audit.head.json', 'old');
    await replacePrivateFileNow(head, 'first, longer content', 'audit head', { slots: true });
    await replacePrivateFileNow(head, 'second', 'audit head', { slots: true });
    const slots = [`${head}.slot-a`, `${head}.slot-b`];
    const inodes = await Promise.all(slots.map(inode));
    for (let round = 0; round < 5; round++) {
      await replacePrivateFileNow(head, `round ${round}`, 'audit head', { slots: true });
      // Shorter than what the slot held before: cut to the new length.
      expect(readFileSync(head, 'utf8')).toBe(`round ${round}`);
      expect(inodes).toContain(await inode(head));
      expect(await Promise.all(slots.map(inode))).toEqual(inodes);
      expect((await fs.stat(head)).nlink).toBe(2);
      expect((await fs.stat(head)).mode & 0o777).toBe(0o600);
    }
    expect((await fs.readdir(dir)).sort()).toEqual(['audit.head.json', 'audit.head.json.slot-a', 'audit.head.json.slot-b']);
  });

  it('goes on after a process was cut off between linking `.next` and renaming it', async () => {
    const head = await file('audit.head.json', 'old');
    await replacePrivateFileNow(head, 'one', 'audit head', { slots: true });
    await replacePrivateFileNow(head, 'two', 'audit head', { slots: true });
    // Cut off: the free slot (written) linked as .next, never renamed: both slots now have two links.
    const free = (await inode(head)) === (await inode(`${head}.slot-a`)) ? `${head}.slot-b` : `${head}.slot-a`;
    await fs.link(free, `${head}.next`);
    await replacePrivateFileNow(head, 'three', 'audit head', { slots: true });
    expect(readFileSync(head, 'utf8')).toBe('three');
    expect(await fs.readdir(dir)).not.toContain('audit.head.json.next');
  });

  it('never writes into a slot another name reaches, nor through a link planted at a slot', async () => {
    const head = await file('audit.head.json', 'old');
    await replacePrivateFileNow(head, 'one', 'audit head', { slots: true });
    await replacePrivateFileNow(head, 'two', 'audit head', { slots: true });
    const free = (await inode(head)) === (await inode(`${head}.slot-a`)) ? `${head}.slot-b` : `${head}.slot-a`;
    // A hard link to the free slot from elsewhere: that slot is not free any more (its content must stay).
    const theirs = path.join(dir, 'theirs');
    await fs.link(free, theirs);
    const before = readFileSync(theirs, 'utf8');
    await replacePrivateFileNow(head, 'three', 'audit head', { slots: true });
    expect(readFileSync(head, 'utf8')).toBe('three');
    expect(readFileSync(theirs, 'utf8')).toBe(before);
    // A symbolic link at a slot: refused, nothing written through it, the name keeps its content.
    await fs.rm(theirs);
    const target = await file('elsewhere', 'untouched');
    for (const slot of [`${head}.slot-a`, `${head}.slot-b`]) await fs.rm(slot);
    await fs.symlink(target, `${head}.slot-a`);
    await expect(replacePrivateFileNow(head, 'four', 'audit head', { slots: true })).rejects.toMatchObject({ code: 'E_PERMISSIONS' });
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    expect(readFileSync(head, 'utf8')).toBe('three');
  });

  it('refused at its slot, waits for `after` before failing (its caller then closes what `after` syncs)', async () => {
    const head = await file('audit.head.json', 'old');
    const target = await file('elsewhere', 'untouched');
    for (const slot of [`${head}.slot-a`, `${head}.slot-b`]) await fs.symlink(target, slot);
    let settled = false;
    const after = new Promise<void>((resolve) => setTimeout(resolve, 30)).then(() => {
      settled = true;
    });
    await expect(replacePrivateFileNow(head, 'new', 'audit head', { slots: true, after })).rejects.toMatchObject({ code: 'E_PERMISSIONS' });
    expect(settled).toBe(true);
    expect(readFileSync(head, 'utf8')).toBe('old');
  });

  it('with `after` failing, the name keeps its content', async () => {
    const head = await file('audit.head.json', 'old');
    await replacePrivateFileNow(head, 'one', 'audit head', { slots: true });
    const failed = replacePrivateFileNow(head, 'two', 'audit head', { slots: true, after: Promise.reject(new Error('EIO: the log could not be synced')) });
    await expect(failed).rejects.toThrow('EIO');
    expect(readFileSync(head, 'utf8')).toBe('one');
    await replacePrivateFileNow(head, 'three', 'audit head', { slots: true });
    expect(readFileSync(head, 'utf8')).toBe('three');
  });
});

describe('checkPrivateFileNow (the audit log checked ahead of each bulk step, without opening it)', () => {
  it('says whether the file is there, and refuses a link, a hard link, a loosened file and a directory', async () => {
    const log = path.join(dir, 'audit.jsonl');
    expect(checkPrivateFileNow(log, 'audit log')).toBe(false);
    await file('audit.jsonl');
    expect(checkPrivateFileNow(log, 'audit log')).toBe(true);
    const link = path.join(dir, 'link');
    await fs.symlink(log, link);
    expect(() => checkPrivateFileNow(link, 'audit log')).toThrow(
      expect.objectContaining({ code: 'E_PERMISSIONS', message: expect.stringMatching(/symbolic link/) }),
    );
    await fs.link(log, path.join(dir, 'hard'));
    expect(() => checkPrivateFileNow(log, 'audit log')).toThrow(expect.objectContaining({ message: expect.stringMatching(/2 hard links/) }));
    await fs.rm(path.join(dir, 'hard'));
    await fs.chmod(log, 0o640);
    expect(() => checkPrivateFileNow(log, 'audit log')).toThrow(expect.objectContaining({ code: 'E_PERMISSIONS' }));
    expect(() => checkPrivateFileNow(dir, 'audit log')).toThrow(expect.objectContaining({ message: expect.stringMatching(/not a regular file/) }));
  });
});
