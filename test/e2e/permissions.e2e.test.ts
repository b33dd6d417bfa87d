import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { readCodesCsv } from '../support/codes-csv.js';

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

/**
 * Files that hold codes (issues 13 and 14): a generated code gets a safe home before anything is
 * sent, so exit 2 still means "nothing changed"; the file is created O_EXCL|O_NOFOLLOW 0600 or,
 * to append, opened O_NOFOLLOW and checked on its descriptor; its directory is not writable by others.
 */
describe('files that hold codes', () => {
  const codeOf = async (slot: number): Promise<string | undefined> => JSON.parse(await fs.readFile(demoState(), 'utf8')).users?.[slot]?.code;
  const auditLines = async () => (await fs.readFile(path.join(sandbox.stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n').length;
  const asRoot = process.geteuid?.() === 0;

  async function refusedBeforeSending(args: string[], slot: number, pattern: RegExp) {
    const before = await codeOf(slot);
    const entries = await auditLines();
    const result = await sandbox.run(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(await codeOf(slot)).toBe(before);
    expect(await auditLines()).toBe(entries);
    return result;
  }

  it('accepts a codes file in a 0755 directory (a default home) and saves the code as applied', async () => {
    const home = path.join(sandbox.dir, 'home-755');
    await fs.mkdir(home, { mode: 0o755 });
    await fs.chmod(home, 0o755);
    const file = path.join(home, 'codes.csv');
    const result = await sandbox.run(['users', 'set-code', '--panel', 'demo', '--slot', '3', '--generate', '--codes-file', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(await readCodesCsv(file)).toEqual([['demo', '3', 'Ingrid', await codeOf(3), 'applied']]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a codes file in a directory others can write, before the panel is changed', async () => {
    const shared = path.join(sandbox.dir, 'shared-777');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o777);
    await refusedBeforeSending(
      ['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--codes-out', path.join(shared, 'c.csv')],
      4,
      /writable by other users \(mode 0777\)/,
    );
    await refusedBeforeSending(
      ['users', 'add', '--panel', 'demo', '--slot', '42', '--name', 'Vikar 3', '--generate', '--codes-out', path.join(shared, 'c.csv')],
      42,
      /writable by other users/,
    );
    expect(await fs.readdir(shared)).toEqual([]);
  });

  it('refuses an existing codes file others can read (0644), before the panel is changed', async () => {
    const file = path.join(sandbox.dir, 'loose-codes.csv');
    await fs.writeFile(file, '');
    await fs.chmod(file, 0o644);
    await refusedBeforeSending(
      ['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--codes-file', file],
      4,
      /accessible by other users \(mode 0644\)/,
    );
    await refusedBeforeSending(
      ['users', 'add', '--panel', 'demo', '--slot', '43', '--name', 'Vikar 3', '--generate', '--codes-file', file],
      43,
      /accessible by other users/,
    );
    expect(await fs.readFile(file, 'utf8')).toBe('');
  });

  it('never writes a code through a planted symbolic link', async () => {
    const theirs = path.join(sandbox.dir, 'theirs.csv');
    await fs.writeFile(theirs, '', { mode: 0o600 });
    const link = path.join(sandbox.dir, 'planted.csv');
    await fs.symlink(theirs, link);
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--codes-out', link], 4, /symbolic link/);
    expect(await fs.readFile(theirs, 'utf8')).toBe('');
  });

  it('refuses a hard-linked codes file', async () => {
    const file = path.join(sandbox.dir, 'hard.csv');
    await fs.writeFile(file, '', { mode: 0o600 });
    await fs.link(file, path.join(sandbox.dir, 'hard-second-name.csv'));
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--codes-out', file], 4, /2 hard links/);
  });

  it.skipIf(!asRoot)('refuses a codes file, a secrets file and a code file that belong to another user, even 0600', async () => {
    const theirs = path.join(sandbox.dir, 'nobodys.csv');
    await fs.writeFile(theirs, '', { mode: 0o600 });
    await fs.chown(theirs, 65534, 65534);
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--codes-out', theirs], 4, /belongs to uid 65534/);

    const codeFile = path.join(sandbox.dir, 'nobodys-code.txt');
    await fs.writeFile(codeFile, '583920\n', { mode: 0o600 });
    await fs.chown(codeFile, 65534, 65534);
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--code-file', codeFile], 4, /code file .* belongs to uid 65534/);

    const secretFile = path.join(sandbox.dir, 'nobodys-master.txt');
    await fs.writeFile(secretFile, '8305174\n', { mode: 0o600 });
    await fs.chown(secretFile, 65534, 65534);
    await sandbox.writeInventory(`panels:\n  p2:\n    driver: integra\n    link: tcp://127.0.0.1:1\n    secret: file:${secretFile}\n`);
    const list = await sandbox.run(['users', 'list', '--panel', 'p2']);
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/secrets file .* belongs to uid 65534/);
    await sandbox.writeInventory('panels: {}\n');
  });

  it('reads a code file through one checked descriptor: a link to a code file is refused', async () => {
    const real = path.join(sandbox.dir, 'right-code.txt');
    await fs.writeFile(real, '583920\n', { mode: 0o600 });
    const link = path.join(sandbox.dir, 'code-link.txt');
    await fs.symlink(real, link);
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--code-file', link], 4, /code file .* is a symbolic link/);
  });

  it('refuses --generate with nowhere to put the code, before the panel is changed', async () => {
    await refusedBeforeSending(
      ['users', 'add', '--panel', 'demo', '--slot', '44', '--name', 'Lost', '--generate'],
      44,
      /--generate needs a place for the code/,
    );
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate'], 4, /--generate needs a place for the code/);
    // Plain text into a pipe is a codes file nobody checked; -o json is a program asking for it.
    await refusedBeforeSending(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--reveal'], 4, /standard output is not a terminal/);
    const json = await sandbox.run(['users', 'set-code', '--panel', 'demo', '--slot', '4', '--generate', '--reveal', '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).generatedCode).toBe(await codeOf(4));
  });

  it('leaves no codes file behind when a later check refuses the command (exit 2)', async () => {
    const file = path.join(sandbox.dir, 'never-used.csv');
    await refusedBeforeSending(
      ['users', 'add', '--panel', 'demo', '--slot', '999', '--name', 'Nobody', '--generate', '--codes-out', file],
      999,
      /--slot: must be a slot this panel has/,
    );
    await expect(fs.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps a code whose change may have landed as unconfirmed and says so; drops one never sent', async () => {
    // A panel that accepts the connection and then says nothing: the change cannot be settled.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const file = path.join(sandbox.dir, 'in-doubt.csv');
    try {
      const lost = await sandbox.run(
        [
          'users',
          'set-code',
          '--link',
          `tcp://127.0.0.1:${port}`,
          '--driver',
          'integra',
          '--secret-from',
          'env:X',
          '--slot',
          '3',
          '--generate',
          '--codes-out',
          file,
          '--timeout',
          '1s',
        ],
        { env: { X: '1234' } },
      );
      expect(lost.code, lost.stderr).toBe(4);
      expect(lost.stderr).toMatch(/may be in force .* kept in .*in-doubt\.csv as "unconfirmed"/);
      expect((await readCodesCsv(file)).map((r) => r[4])).toEqual(['unconfirmed']);
    } finally {
      silent.close();
    }
    // Port 1: connection refused, so nothing was sent and nothing is kept.
    const refused = await sandbox.run(
      ['users', 'set-code', '--link', 'tcp://127.0.0.1:1', '--driver', 'integra', '--secret-from', 'env:X', '--slot', '3', '--generate', '--codes-out', file],
      { env: { X: '1234' } },
    );
    expect(refused.code).toBe(4);
    expect(refused.stderr).not.toMatch(/unconfirmed/);
    expect((await readCodesCsv(file)).map((r) => r[4])).toEqual(['unconfirmed']);
  });

  it('writes names as quoted CSV text a spreadsheet will not run as a formula', async () => {
    const file = path.join(sandbox.dir, 'hostile-names.csv');
    const names = ['=HYPERLINK("x")', '+1+1', '-2+3', '@SUM(A1)'];
    for (const [i, name] of names.entries()) {
      const add = await sandbox.run(['users', 'add', '--panel', 'demo', '--slot', String(50 + i), '--name', name, '--generate', '--codes-out', file]);
      expect(add.code, add.stderr).toBe(0);
    }
    const text = await fs.readFile(file, 'utf8');
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^"[\s\S]*"$/);
    const rows = await readCodesCsv(file);
    expect(rows.map((r) => r[2])).toEqual(names.map((n) => `'${n}`));
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });
});
