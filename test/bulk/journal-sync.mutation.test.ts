import fs from 'node:fs/promises';
import fsNow from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Journal, journalFile } from '../../src/bulk/journal.js';

/**
 * The journal's syncs, counted: a sync costs a disk flush per bulk step, so none is made that
 * protects nothing, and a failed write or sync reaches the caller (the step is not sent).
 */

const roots: string[] = [];
afterAll(async () => {
  for (const dir of roots) await fs.rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

/** A journal in a fresh directory, and the FileHandle prototype its file uses (to count or break calls). */
async function journalWithHandle(): Promise<{ journal: Journal; file: string; proto: { datasync: () => Promise<void> } }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-journal-count-'));
  roots.push(dir);
  const probe = await fs.open(path.join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
  const file = journalFile(path.join(dir, 'bulk', 'plan'));
  return { journal: await Journal.open(file), file, proto };
}

describe('journal syncs', () => {
  it('a journal closed with nothing written is not synced', async () => {
    const { journal, proto } = await journalWithHandle();
    const syncs = vi.spyOn(proto, 'datasync');
    await journal.close();
    expect(syncs).not.toHaveBeenCalled();
  });

  it('close does not sync again what the last durable line already synced', async () => {
    const { journal, proto } = await journalWithHandle();
    const syncs = vi.spyOn(proto, 'datasync');
    await journal.append({ step: 'a', panel: 'p', event: 'started', slot: 1 });
    expect(syncs).toHaveBeenCalledTimes(1);
    await journal.close();
    expect(syncs).toHaveBeenCalledTimes(1);
  });

  it('lines that may wait are not synced on their own; close syncs them once', async () => {
    const { journal, proto } = await journalWithHandle();
    const syncs = vi.spyOn(proto, 'datasync');
    await journal.append({ step: 'a', panel: 'p', event: 'done', how: 'written' }, { durable: false });
    await journal.append({ step: 'b', panel: 'p', event: 'failed' }, { durable: false });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(syncs).not.toHaveBeenCalled();
    await journal.close();
    expect(syncs).toHaveBeenCalledTimes(1);
  });

  it('a write that fails rejects the append (the step it announces is not sent)', async () => {
    const { journal } = await journalWithHandle();
    vi.spyOn(fsNow, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    });
    await expect(journal.append({ step: 'a', panel: 'p', event: 'started', slot: 1 })).rejects.toThrow(/no space left/);
    await journal.close();
  });

  it('a write cut short is finished: every byte of every line reaches the file', async () => {
    const { journal, file } = await journalWithHandle();
    const write = fsNow.writeSync;
    // The first write takes only 5 bytes, as a write to a file may.
    const short = (fd: number, buffer: Buffer, offset?: number) => write(fd, buffer, offset ?? 0, 5);
    vi.spyOn(fsNow, 'writeSync').mockImplementationOnce(short as unknown as typeof write);
    await journal.append({ step: 'a', panel: 'p', event: 'started', slot: 1 });
    await journal.append({ step: 'b', panel: 'p', event: 'started', slot: 2 });
    await journal.close();
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).step)).toEqual(['a', 'b']);
  });

  it('a sync that fails rejects every durable append waiting for it', async () => {
    const { journal, proto } = await journalWithHandle();
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('I/O error'), { code: 'EIO' }));
    await expect(journal.append({ step: 'a', panel: 'p', event: 'started', slot: 1 })).rejects.toThrow(/I\/O error/);
    await journal.close();
  });
});
