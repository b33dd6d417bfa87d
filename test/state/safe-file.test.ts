import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createPrivateFile, openPrivateAppend, readPrivateFile, replacePrivateFile } from '../../src/state/safe-file.js';

/**
 * The rule for every file that holds a code or a secret (src/state/safe-file.ts), on the
 * descriptor: not a link, a regular file of the caller's, 0600, one link, in a directory others
 * cannot write. Tests that change owners need root (the CI container runs as root).
 */

const NOBODY = 65534;
const asRoot = process.geteuid?.() === 0;
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-safe-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const victim = async (text = 'theirs\n') => {
  const file = path.join(dir, 'victim');
  await fs.writeFile(file, text, { mode: 0o600 });
  return file;
};

describe('files panelctl writes codes to', () => {
  it('creates a new file 0600 whatever the umask, and refuses an existing one', async () => {
    const file = path.join(dir, 'codes.csv');
    const old = process.umask(0o277);
    try {
      const handle = await createPrivateFile(file, 'codes file');
      await handle.close();
    } finally {
      process.umask(old);
    }
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    await expect(createPrivateFile(file, 'codes file')).rejects.toMatchObject({ code: 'E_EXISTS', exitCode: 2 });
  });

  it('never writes through a planted symbolic link (create, append or replace)', async () => {
    const target = await victim();
    const link = path.join(dir, 'codes.csv');
    await fs.symlink(target, link);
    await expect(createPrivateFile(link, 'codes file')).rejects.toMatchObject({ exitCode: 2 });
    await expect(openPrivateAppend(link, 'codes file')).rejects.toMatchObject({ message: expect.stringMatching(/symbolic link/), exitCode: 2 });
    await replacePrivateFile(link, 'mine\n', 'codes file');
    expect(await fs.readFile(target, 'utf8')).toBe('theirs\n');
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(false);
  });

  it('refuses to append to a file others can read, a hard-linked file, or a file that is not regular', async () => {
    const loose = path.join(dir, 'loose.csv');
    await fs.writeFile(loose, 'x\n', { mode: 0o644 });
    await fs.chmod(loose, 0o644);
    await expect(openPrivateAppend(loose, 'codes file')).rejects.toMatchObject({ message: expect.stringMatching(/accessible by other users \(mode 0644\)/) });

    const linked = path.join(dir, 'linked.csv');
    await fs.writeFile(linked, 'x\n', { mode: 0o600 });
    await fs.link(linked, path.join(dir, 'second-name'));
    await expect(openPrivateAppend(linked, 'codes file')).rejects.toMatchObject({ message: expect.stringMatching(/2 hard links/) });

    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    await expect(readPrivateFile(fifo, 'code file')).rejects.toMatchObject({ message: expect.stringMatching(/not a regular file/) });
  });

  it.skipIf(!asRoot)('refuses a file that belongs to someone else, even 0600', async () => {
    const theirs = await victim();
    await fs.chown(theirs, NOBODY, NOBODY);
    await expect(openPrivateAppend(theirs, 'codes file')).rejects.toMatchObject({ message: expect.stringMatching(/belongs to uid 65534, not to you/) });
    await expect(readPrivateFile(theirs, 'secrets file')).rejects.toMatchObject({ message: expect.stringMatching(/belongs to uid 65534/) });
  });

  it('accepts a directory only its owner can write (0700, 0755) or a sticky one; refuses 0777 and 0775', async () => {
    for (const [mode, ok] of [
      [0o700, true],
      [0o755, true],
      [0o1777, true],
      [0o777, false],
      [0o775, false],
    ] as const) {
      const sub = path.join(dir, `d${mode.toString(8)}`);
      await fs.mkdir(sub);
      await fs.chmod(sub, mode);
      const attempt = openPrivateAppend(path.join(sub, 'codes.csv'), 'codes file').then((r) => r.handle.close());
      if (ok) await expect(attempt).resolves.toBeUndefined();
      else await expect(attempt).rejects.toMatchObject({ message: expect.stringMatching(/writable by other users/), exitCode: 2 });
    }
  });

  it.skipIf(!asRoot)('refuses a directory that belongs to another user', async () => {
    const sub = path.join(dir, 'theirs');
    await fs.mkdir(sub, { mode: 0o755 });
    await fs.chown(sub, NOBODY, NOBODY);
    await expect(openPrivateAppend(path.join(sub, 'codes.csv'), 'codes file')).rejects.toMatchObject({
      message: expect.stringMatching(/belongs to uid 65534/),
    });
  });
});

describe('secret files panelctl reads', () => {
  it('reads a 0600 file of the caller, and refuses a link to one', async () => {
    const file = await victim('4711\n');
    expect(await readPrivateFile(file, 'secrets file')).toBe('4711\n');
    const link = path.join(dir, 'link');
    await fs.symlink(file, link);
    await expect(readPrivateFile(link, 'secrets file')).rejects.toMatchObject({ message: expect.stringMatching(/symbolic link/), exitCode: 2 });
  });

  it('refuses a file bigger than the limit', async () => {
    const file = await victim('x'.repeat(5000));
    await expect(readPrivateFile(file, 'secrets file', 4096)).rejects.toMatchObject({ code: 'E_TOO_BIG' });
  });
});
