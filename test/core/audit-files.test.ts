import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, auditPaths, prepareAudit, verifyAudit } from '../../src/audit/log.js';

/**
 * The audit's own files, as bulk apply uses them for every step (issue 20): the log checked ahead of a
 * write without being opened, and the signed head rewritten from two slot files instead of a new
 * temp file per batch. The rules stay those of safe-file.ts.
 */

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-files-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const record = (slot: number) => ({ operator: 'anna', panel: 'oslo', action: 'users.set-code', slot, outcome: 'ok' as const });

describe('prepareAudit (before a write is sent)', () => {
  it('makes the log when there is none, and refuses one others can read or a link, naming the audit log', async () => {
    await prepareAudit(dir);
    const { log } = auditPaths(dir);
    expect((await fs.stat(log)).mode & 0o777).toBe(0o600);
    await fs.chmod(log, 0o644);
    await expect(prepareAudit(dir)).rejects.toMatchObject({ code: 'E_PERMISSIONS', message: expect.stringMatching(/^audit log .* accessible by other users/) });
    await fs.rm(log);
    const elsewhere = path.join(dir, 'elsewhere.jsonl');
    await fs.writeFile(elsewhere, '', { mode: 0o600 });
    await fs.symlink(elsewhere, log);
    await expect(prepareAudit(dir)).rejects.toMatchObject({ code: 'E_PERMISSIONS', message: expect.stringMatching(/^audit log .* symbolic link/) });
  });
});

describe('the audit head', () => {
  it('is rewritten from two slot files: the head is a second name of one, no temp file is left, the chain verifies', async () => {
    for (let slot = 1; slot <= 4; slot++) await appendAudit(dir, record(slot));
    const { head } = auditPaths(dir);
    const inodes = await Promise.all(['slot-a', 'slot-b'].map(async (s) => (await fs.stat(`${head}.${s}`)).ino));
    expect(inodes).toContain((await fs.stat(head)).ino);
    expect((await fs.stat(head)).nlink).toBe(2);
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(await fs.readFile(head, 'utf8'))).toMatchObject({ seq: 4 });
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('refuses a link planted at its free slot, naming the audit head, and writes nothing through it', async () => {
    for (let slot = 1; slot <= 2; slot++) await appendAudit(dir, record(slot));
    const { head } = auditPaths(dir);
    const target = path.join(dir, 'not-yours');
    await fs.writeFile(target, 'untouched', { mode: 0o600 });
    for (const slot of ['slot-a', 'slot-b']) {
      if ((await fs.stat(`${head}.${slot}`)).nlink === 1) {
        await fs.rm(`${head}.${slot}`);
        await fs.symlink(target, `${head}.${slot}`);
      }
    }
    await expect(appendAudit(dir, record(3))).rejects.toMatchObject({ code: 'E_PERMISSIONS', message: expect.stringMatching(/^audit head .* symbolic link/) });
    expect(await fs.readFile(target, 'utf8')).toBe('untouched');
  });
});
