import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readTextBounded } from '../../src/core/bounded-read.js';
import { loadProfile } from '../../drivers/modbus/profile.js';

/** Files a person points panelctl at are read with a byte cap (issue 14 item 13). */
describe('bounded reads', () => {
  const dir = path.join(os.tmpdir(), `panelctl-bounded-${process.pid}`);
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('reads a file up to its cap, and refuses one byte more', async () => {
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'f.txt');
    await fs.writeFile(file, 'é'.repeat(512)); // 1024 bytes
    expect(await readTextBounded(file, 1024, 'test file')).toBe('é'.repeat(512));
    await expect(readTextBounded(file, 1023, 'test file')).rejects.toMatchObject({
      exitCode: 2,
      code: 'E_TOO_LARGE',
      message: `test file ${file} is larger than 1023 bytes, the limit for it`,
    });
  });

  it('a FIFO is read the waiting way: the process goes on while no writer has come, then reads what one writes', async () => {
    await fs.mkdir(dir, { recursive: true });
    const fifo = path.join(dir, 'inventory.fifo');
    execFileSync('mkfifo', [fifo]);
    const reading = readTextBounded(fifo, 1024, 'test file');
    // Were it read synchronously, this process could not get here to write, and the test would hang.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await fs.writeFile(fifo, 'panels: {}\n');
    expect(await reading).toBe('panels: {}\n');
  });

  it('a Modbus profile of /dev/zero is refused at 1 MiB instead of read whole', async () => {
    await expect(loadProfile('/dev/zero')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/options\.profile: profile file \/dev\/zero is larger than 1 MiB/),
    });
  });
});
