import { afterEach, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { run } from '../../src/cli/main.js';
import { drivers } from '../../drivers/index.js';

const saved = { ...process.env };
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

function collector(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

describe('standard input', () => {
  it('a command that reads none never makes process.stdin (Node builds that stream on first use, ~2.5 ms of every start)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-stdin-'));
    dirs.push(dir);
    delete process.env.PANELCTL_INVENTORY;
    Object.assign(process.env, { HOME: dir, PANELCTL_STATE_DIR: path.join(dir, 'state'), PANELCTL_DEMO_DIR: path.join(dir, 'demo'), NO_COLOR: '1' });
    const made = vi.spyOn(process, 'stdin', 'get');
    const [stdout, stderr] = [collector(), collector()];
    const code = await run(['node', 'panelctl', 'users', 'list', '--panel', 'demo', '-o', 'json'], {
      drivers: async () => drivers,
      io: { stdout: stdout.stream, stderr: stderr.stream },
    });
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.text()).users.length).toBeGreaterThan(0);
    expect(made).not.toHaveBeenCalled();
  });
});
