import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveSecretRef } from '../../src/inventory/secrets.js';
import { Secret } from '../../src/core/secret.js';

// Every branch of the secret references, each error pinned by its message and code (issue 21: a mutation run
// measures only tests that import the source).

const dirs: string[] = [];
async function privateDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-secrets-'));
  await fs.chmod(dir, 0o700);
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('env:NAME', () => {
  it('reads the variable, trimmed, as a Secret with the label', async () => {
    vi.stubEnv('PANELCTL_TEST_SECRET', '  4821 \n');
    const secret = await resolveSecretRef('env:PANELCTL_TEST_SECRET', 'installer code');
    expect(secret).toBeInstanceOf(Secret);
    expect(secret.reveal()).toBe('4821');
    expect(secret.label).toBe('installer code');
  });

  it('refuses a variable that is unset or empty, naming it', async () => {
    vi.stubEnv('PANELCTL_TEST_EMPTY', '');
    for (const name of ['PANELCTL_TEST_EMPTY', 'PANELCTL_TEST_UNSET_9F2']) {
      await expect(resolveSecretRef(`env:${name}`, 'user code')).rejects.toMatchObject({
        message: `user code: environment variable ${name} is not set`,
        code: 'E_SECRET_MISSING',
        exitCode: 2,
      });
    }
  });
});

describe('file:PATH', () => {
  it('reads the first line of a private file, trimmed, whatever the line ending', async () => {
    const dir = await privateDir();
    const file = path.join(dir, 'code');
    await fs.writeFile(file, ' 739164 \r\nsecond line\n', { mode: 0o600 });
    const secret = await resolveSecretRef(`file:${file}`, 'TPI password');
    expect(secret.reveal()).toBe('739164');
    expect(secret.label).toBe('TPI password');
  });

  it('expands ~ to the home folder', async () => {
    const home = await privateDir();
    await fs.writeFile(path.join(home, 'pin'), '5820\n', { mode: 0o600 });
    // os.homedir(), not $HOME: a worker thread's environment is its own copy, which libuv does not read.
    vi.spyOn(os, 'homedir').mockReturnValue(home);
    expect((await resolveSecretRef('file:~/pin', 'code')).reveal()).toBe('5820');
  });

  it('refuses an empty file and a missing one, naming the file', async () => {
    const dir = await privateDir();
    const empty = path.join(dir, 'empty');
    await fs.writeFile(empty, '  \nlater\n', { mode: 0o600 });
    await expect(resolveSecretRef(`file:${empty}`, 'code')).rejects.toMatchObject({
      message: `code: secrets file ${empty} is empty`,
      code: 'E_SECRET_MISSING',
    });
    const missing = path.join(dir, 'missing');
    await expect(resolveSecretRef(`file:${missing}`, 'code')).rejects.toMatchObject({
      message: `code: secrets file ${missing} does not exist`,
      code: 'E_SECRET_MISSING',
    });
  });

  it('passes on why a file others can read is refused', async () => {
    const dir = await privateDir();
    const open = path.join(dir, 'open');
    await fs.writeFile(open, '5820\n', { mode: 0o600 });
    await fs.chmod(open, 0o644);
    const error = await resolveSecretRef(`file:${open}`, 'code').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_PERMISSIONS' });
    expect(String((error as Error).message)).toContain(`secrets file for code ${open}`);
  });
});

describe('prompt', () => {
  it('asks with the label and takes what was typed', async () => {
    const prompt = vi.fn(async () => '91357');
    const secret = await resolveSecretRef('prompt', 'user code', prompt);
    expect(prompt).toHaveBeenCalledWith('user code');
    expect(secret.reveal()).toBe('91357');
    expect(secret.label).toBe('user code');
  });

  it('refuses nothing typed, and says what to do without a terminal', async () => {
    await expect(resolveSecretRef('prompt', 'user code', async () => '')).rejects.toMatchObject({
      message: 'user code: nothing was entered',
      code: 'E_SECRET_MISSING',
    });
    await expect(resolveSecretRef('prompt', 'user code')).rejects.toMatchObject({
      message: 'user code must be typed at a prompt, but there is no terminal',
      code: 'E_NO_TTY',
      hint: 'configure the secret as env:VARIABLE or file:PATH for scripted use',
    });
  });
});

describe('anything else', () => {
  it('is an unknown reference, also when a known prefix is not at the start', async () => {
    for (const ref of ['vault:x', 'xenv:HOME', 'xfile:/etc/hostname', 'prompt ', 'Prompt']) {
      await expect(resolveSecretRef(ref, 'code'), ref).rejects.toMatchObject({
        message: 'code: unknown secret reference (use env:VARIABLE, file:PATH or prompt)',
        exitCode: 2,
      });
    }
  });
});
