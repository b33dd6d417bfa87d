import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveSecretRef } from '../../src/inventory/secrets.js';

/**
 * Issue 14 item 11: a `file:` secret was checked (stat) and then read (readFile) by name, so a
 * file swapped in between was read although it failed the check. Here the name flips between a
 * 0600 file with the right code and a 0644 file with a wrong one while it is being read: every
 * read must give the right code or a refusal, never the wrong code.
 */

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-race-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

describe('a secret file swapped while it is read', () => {
  it('never yields the content of the file that fails the check', async () => {
    const name = path.join(dir, 'master');
    let stop = false;
    let flips = 0;
    const swapper = (async () => {
      while (!stop) {
        const right = flips % 2 === 0;
        const temp = path.join(dir, `next-${flips}`);
        await fs.writeFile(temp, right ? '111111\n' : '999999\n', { mode: right ? 0o600 : 0o644 });
        await fs.chmod(temp, right ? 0o600 : 0o644);
        await fs.rename(temp, name);
        flips++;
      }
    })();
    const seen = { right: 0, wrong: 0, refused: 0 };
    try {
      for (let i = 0; i < 2000; i++) {
        try {
          const value = (await resolveSecretRef(`file:${name}`, 'master code')).reveal();
          if (value === '111111') seen.right++;
          else seen.wrong++;
        } catch {
          seen.refused++;
        }
      }
    } finally {
      stop = true;
      await swapper;
    }
    expect(seen.wrong, JSON.stringify(seen)).toBe(0);
    expect(seen.right).toBeGreaterThan(0);
  });
});
