import { afterEach, beforeEach } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A fresh private directory for each test in the calling file, removed after it. Read `.dir` inside a test. */
export function tempDirPerTest(prefix: string): { readonly dir: string } {
  const current = { dir: '' };
  beforeEach(async () => {
    current.dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => fs.rm(current.dir, { recursive: true, force: true }));
  return current;
}
