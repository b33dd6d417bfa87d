import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { appendAudit } from '../../src/audit/log.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { TtySession } from '../support/tty.js';

/**
 * Text that did not come from panelctl must not drive the operator's terminal (issue 14 item 7):
 * a user name read from a panel, an inventory account, a panel name in the audit log. The demo
 * panel is a simulated INTEGRA whose memory is a file in the sandbox, so its users can be given
 * hostile names: clear screen, a window title, an OSC 52 clipboard write, a carriage return.
 */

const CLEAR = '\x1b[2J';
const TITLE = '\x1b]0;pwn\x07';
const CLIPBOARD = '\x1b]52;c;aGk=\x07';

let sandbox: Sandbox;

beforeEach(async () => {
  sandbox = await makeSandbox();
  expect((await sandbox.run(['users', 'list', '--panel', 'demo'])).code).toBe(0);
  const memory = path.join(sandbox.env.PANELCTL_DEMO_DIR as string, 'integra.json');
  const state = JSON.parse(await fs.readFile(memory, 'utf8'));
  state.users['1'].name = `${TITLE}${CLEAR}`;
  state.users['2'].name = 'ok\rEVIL\x7f';
  await fs.writeFile(memory, JSON.stringify(state));
});

afterEach(() => sandbox.cleanup());

describe('outside text reaching a terminal', () => {
  it('users list shows escape sequences in user names as visible \\x1b text', async () => {
    const result = await sandbox.run(['users', 'list', '--panel', 'demo']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(result.stdout).toContain('\\x1b]0;pwn\\x07\\x1b[2J');
    expect(result.stdout).toContain('ok\\x0dEVIL\\x7f');
  });

  it('-o json escapes them too (C0 by JSON itself, DEL and C1 as \\u escapes) and still parses to the same names', async () => {
    const result = await sandbox.run(['users', 'list', '--panel', 'demo', '-o', 'json']);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    const names = JSON.parse(result.stdout).users.map((u: { name: string }) => u.name);
    expect(names).toContain(`${TITLE}${CLEAR}`);
    expect(names).toContain('ok\rEVIL\x7f');
  });

  it('panels shows an inventory account with an OSC 52 clipboard write as text', async () => {
    await sandbox.writeInventory(
      `panels:\n  shop:\n    driver: integra\n    link: tcp://127.0.0.1:9\n    account: ${JSON.stringify(CLIPBOARD)}\n    customer: "\\u202eevil"\n`,
    );
    const result = await sandbox.run(['panels']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    expect(result.stdout).toContain('\\x1b]52;c;aGk=\\x07');
  });

  it('audit show prints a panel name with escapes (written by an older version) as text', async () => {
    await appendAudit(sandbox.stateDir, {
      operator: `x${CLEAR}`,
      panel: `${TITLE}adhoc`,
      driver: 'integra',
      action: 'users.add',
      slot: 9,
      outcome: 'ok',
    } as never);
    const result = await sandbox.run(['audit', 'show']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(result.stdout).toContain('\\x1b]0;pwn\\x07adhoc');
  });

  it('an error quoting a hostile name escapes it, with colour on', async () => {
    const result = await sandbox.run(
      ['users', 'add', '--panel', 'demo', '--slot', '1', '--name', 'x', '--generate', '--codes-out', path.join(sandbox.dir, 'codes.csv')],
      { env: { FORCE_COLOR: '1', NO_COLOR: '' } },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('\\x1b]0;pwn');
    expect(result.stderr).not.toContain(TITLE);
    expect(result.stderr).not.toContain(CLEAR);
  });

  it('the interactive shell shows the names escaped (table, header and user picker)', async () => {
    const t = new TtySession(['shell', '--panel', 'demo'], sandbox.env);
    try {
      await t.expect(/SLOT\s+KIND\s+NAME/);
      await t.expect(/What now on demo\?/);
      expect(t.output).toContain('\\x1b]0;pwn\\x07\\x1b[2J');
      expect(t.output).not.toContain(TITLE);
      expect(t.output).not.toContain(CLEAR);
      expect(t.output).not.toContain('\rEVIL');
    } finally {
      t.kill();
    }
  });

  it('an ad hoc panel name with escapes or ../ is refused before anything is written (exit 2, no audit entry)', async () => {
    for (const name of [`${CLEAR}x`, '../../tmp/x']) {
      const result = await sandbox.run(['users', 'remove', '--panel', name, '--link', 'tcp://127.0.0.1:9', '--driver', 'integra', '--slot', '3', '--yes']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--panel: panel names are 1-64 letters/);
      expect(result.stderr).not.toContain(CLEAR);
    }
    await expect(fs.readFile(path.join(sandbox.stateDir, 'audit.jsonl'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
