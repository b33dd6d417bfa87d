import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';

/**
 * State that others can read is refused, like ssh refuses a loose key, and refused before
 * anything is sent to a panel, so a change never lands without its audit entry.
 */

let sandbox: Sandbox;
const demoState = () => path.join(sandbox.env.PANELCTL_DEMO_DIR as string, 'integra.json');
const slotExists = async (slot: number) => Boolean(JSON.parse(await fs.readFile(demoState(), 'utf8')).users?.[slot]);

beforeAll(async () => {
  sandbox = await makeSandbox();
  const list = await sandbox.run(['users', 'list', '--panel', 'demo']);
  expect(list.code, list.stderr).toBe(0);
});

afterAll(() => sandbox.cleanup());

describe('private state', () => {
  it('creates the state dir 0700 and its files 0600', async () => {
    const add = await sandbox.run(['users', 'add', '--panel', 'demo', '--slot', '40', '--name', 'Perm', '--code-stdin'], { input: '592817\n' });
    expect(add.code, add.stderr).toBe(0);
    expect((await fs.stat(sandbox.stateDir)).mode & 0o777).toBe(0o700);
    for (const file of ['audit.jsonl', 'audit.head.json']) expect((await fs.stat(path.join(sandbox.stateDir, file))).mode & 0o777).toBe(0o600);
  });

  it('refuses a state dir others can read, before touching the panel', async () => {
    await fs.chmod(sandbox.stateDir, 0o755);
    const add = await sandbox.run(['users', 'add', '--panel', 'demo', '--slot', '41', '--name', 'Loose', '--code-stdin'], { input: '592818\n' });
    await fs.chmod(sandbox.stateDir, 0o700);
    expect(add.code).toBe(2);
    expect(add.stderr).toMatch(/is accessible by other users \(mode 0755\)/);
    expect(add.stderr).toMatch(/chmod 700/);
    expect(await slotExists(41)).toBe(false);
  });

  it('refuses an audit log others can read, before touching the panel', async () => {
    const log = path.join(sandbox.stateDir, 'audit.jsonl');
    await fs.chmod(log, 0o644);
    const remove = await sandbox.run(['users', 'remove', '--panel', 'demo', '--slot', '40', '--yes']);
    const start = await sandbox.run(['test-mode', 'start', '--panel', 'demo', '--for', '5m', '--station-confirmed']);
    await fs.chmod(log, 0o600);
    expect(remove.code).toBe(2);
    expect(remove.stderr).toMatch(/audit log .*audit\.jsonl is accessible by other users/);
    expect(await slotExists(40)).toBe(true);
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(/audit log .* is accessible by other users/);
    const leases = await fs.readdir(path.join(sandbox.stateDir, 'leases')).catch(() => []);
    expect(leases.filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it('refuses a secrets file others can read, naming the file, not its content', async () => {
    const secretFile = path.join(sandbox.dir, 'master.txt');
    await fs.writeFile(secretFile, '8305174\n', { mode: 0o644 });
    await sandbox.writeInventory(`panels:\n  p1:\n    driver: integra\n    link: tcp://127.0.0.1:9\n    secret: file:${secretFile}\n`);
    const list = await sandbox.run(['users', 'list', '--panel', 'p1']);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain(secretFile);
    expect(list.stderr).toMatch(/chmod 600/);
    expect(list.stderr).not.toContain('8305174');
  });
});
