import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { TtySession } from '../support/tty.js';

/**
 * One-shot `users set-code` on a terminal (issue 19): a code the policy refuses is refused at
 * the prompt, right after it is typed, and asked for again; no exit 2 after both entries.
 */

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await makeSandbox();
});
afterAll(() => sandbox.cleanup());

describe('typing a new code on a terminal', () => {
  it('asks again at once when the first entry breaks the code policy', async () => {
    const t = new TtySession(['users', 'set-code', '--panel', 'demo', '--slot', '3'], sandbox.env);
    try {
      await t.expect(/New code:/);
      t.line('111111');
      const next = await t.expect(/try another|New code again:/);
      expect(next[0]).toBe('try another');
      await t.expect(/New code:/);
      t.line('583920');
      await t.expect(/New code again:/);
      t.line('583920');
      const exit = await t.exit(15_000);
      expect(exit.exitCode, t.tail()).toBe(0);
    } finally {
      await t.exit(1000).catch(() => undefined);
    }
    const state = JSON.parse(await fs.readFile(path.join(sandbox.env.PANELCTL_DEMO_DIR as string, 'integra.json'), 'utf8'));
    expect(state.users[3].code).toBe('583920');
  });
});
