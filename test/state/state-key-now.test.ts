import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadStateKeyFile, readStateKeyFileNow, stateKeyPath } from '../../src/state/state-key.js';

/**
 * readStateKeyFileNow is asked for every bulk step (the audit's check before a write) and reads the
 * file again only when its stat changed (issue 20). A key changed, loosened or removed after a
 * reading must never be served from it.
 */

let stateDir: string;
beforeEach(async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-key-now-'));
  await fs.chmod(stateDir, 0o700);
});
afterEach(() => fs.rm(stateDir, { recursive: true, force: true }));

const longAgo = new Date(Date.now() - 60_000);
const sig = (stateDir: string) => readStateKeyFileNow(stateDir)?.sign('test', 'data');

describe('readStateKeyFileNow', () => {
  it('reads a key rewritten in place again, even with its old times put back', async () => {
    const file = stateKeyPath(stateDir);
    const first = (await loadStateKeyFile(stateDir, { create: true }))!.sign('test', 'data');
    await fs.utimes(file, longAgo, longAgo);
    expect(sig(stateDir)).toBe(first);
    expect(sig(stateDir)).toBe(first);
    // Another key of the same length, written into the same file, its times set back as they were.
    const other = JSON.stringify({ format: 'panelctl-state-key/1', key: Buffer.alloc(32, 7).toString('base64') });
    const old = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, other.padEnd(old.length, ' '));
    await fs.utimes(file, longAgo, longAgo);
    expect(sig(stateDir)).not.toBe(first);
  });

  it('refuses a key loosened after it was read, and has none once it is removed', async () => {
    const file = stateKeyPath(stateDir);
    await loadStateKeyFile(stateDir, { create: true });
    await fs.utimes(file, longAgo, longAgo);
    expect(sig(stateDir)).toMatch(/^[0-9a-f]{64}$/);
    await fs.chmod(file, 0o644);
    expect(() => readStateKeyFileNow(stateDir)).toThrow(expect.objectContaining({ code: 'E_PERMISSIONS' }));
    await fs.chmod(file, 0o600);
    expect(sig(stateDir)).toMatch(/^[0-9a-f]{64}$/);
    await fs.rm(file);
    expect(readStateKeyFileNow(stateDir)).toBeUndefined();
  });
});
