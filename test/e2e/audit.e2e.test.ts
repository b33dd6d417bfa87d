import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';

/**
 * `audit verify` and `audit show` through the binary against tampering seen in review (issue 14
 * item 10): a shortened log with a hand-made head, a deleted log and head, a line replaced by
 * `null`. Each is tampering: exit 5, never "intact", never an internal error (exit 1).
 */

let sandbox: Sandbox;
let pristine: { log: string; head: string };
/** The head as it was after the first entry: put back with the whole log, the state a writer killed before signing its head leaves. */
let headAfterFirst: string;
const files = () => ({ log: path.join(sandbox.stateDir, 'audit.jsonl'), head: path.join(sandbox.stateDir, 'audit.head.json') });

/** A code changed on demo (which must succeed), then what `audit verify -o json` says (its exit checked) and the entries `audit show` lists. */
async function writeThenRead(slot: number, code: string) {
  const changed = await sandbox.run(['users', 'set-code', '--panel', 'demo', '--slot', String(slot), '--code-stdin'], { input: `${code}\n` });
  expect(changed.code, changed.stderr).toBe(0);
  const verify = await sandbox.run(['audit', 'verify', '-o', 'json']);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  const show = await sandbox.run(['audit', 'show', '-o', 'json']);
  const entries = JSON.parse(show.stdout).entries as Array<{ seq: number; action: string; details?: Record<string, unknown> }>;
  return { verify, entries };
}

beforeAll(async () => {
  sandbox = await makeSandbox();
  for (const slot of [3, 4, 5]) {
    const changed = await sandbox.run(['users', 'set-code', '--panel', 'demo', '--slot', String(slot), '--code-stdin'], { input: `${592810 + slot}\n` });
    expect(changed.code, changed.stderr).toBe(0);
    if (slot === 3) headAfterFirst = await fs.readFile(files().head, 'utf8');
  }
  pristine = { log: await fs.readFile(files().log, 'utf8'), head: await fs.readFile(files().head, 'utf8') };
}, 60_000);

beforeEach(async () => {
  for (const [file, text] of [
    [files().log, pristine.log],
    [files().head, pristine.head],
  ]) {
    await fs.writeFile(file, text);
    await fs.chmod(file, 0o600);
  }
});

afterAll(() => sandbox.cleanup());

describe('audit verify', () => {
  it('says intact for an untouched log', async () => {
    const verify = await sandbox.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr + verify.stdout).toMatch(/intact: 3 entries/);
  });

  it('exits 5 when the newest entries are removed and the head copied from the new last entry', async () => {
    const kept = pristine.log.trim().split('\n').slice(0, 1);
    await fs.writeFile(files().log, `${kept.join('\n')}\n`);
    const last = JSON.parse(kept[0]);
    await fs.writeFile(files().head, JSON.stringify({ seq: last.seq, hash: last.hash }));
    const verify = await sandbox.run(['audit', 'verify', '-o', 'json']);
    expect(verify.code).toBe(5);
    expect(JSON.parse(verify.stdout)).toMatchObject({ intact: false, problems: [{ problem: expect.stringMatching(/not signed/) }] });
  });

  it('says which entries follow the signed head unsigned (a writer cut off before its head), exit 0, or 8 with --detailed-exitcode', async () => {
    await fs.writeFile(files().head, headAfterFirst);
    const verify = await sandbox.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout + verify.stderr).toMatch(/entries 2\.\.3 follow the signed head unsigned/);
    expect(verify.stdout + verify.stderr).not.toMatch(/cut off the end|not intact/);
    const json = await sandbox.run(['--detailed-exitcode', 'audit', 'verify', '-o', 'json']);
    expect(json.code, json.stderr).toBe(8);
    expect(JSON.parse(json.stdout)).toEqual({ entries: 3, intact: true, problems: [], unsigned: { from: 2, to: 3 } });
  });

  it('signs those unsigned entries at the next write, with an audit.recovered entry naming them', async () => {
    await fs.writeFile(files().head, headAfterFirst);
    const { verify, entries } = await writeThenRead(6, '592816');
    expect(JSON.parse(verify.stdout)).toEqual({ entries: 5, intact: true, problems: [] });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[3]).toMatchObject({ action: 'audit.recovered', details: { from: 2, to: 3 } });
  });

  it('after a writer cut off in its first write (no head yet, last line torn): the next write adopts, cuts, and verify says intact', async () => {
    const [first, second, third] = pristine.log.trim().split('\n');
    await fs.writeFile(files().log, `${first}\n${second}\n${third.slice(0, 40)}`);
    await fs.rm(files().head);
    const { verify, entries } = await writeThenRead(7, '592817');
    expect(JSON.parse(verify.stdout)).toEqual({ entries: 4, intact: true, problems: [] });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[2]).toMatchObject({ action: 'audit.recovered', details: { from: 1, to: 2, cutBytes: 40 } });
  });

  it('exits 5 when the log and its head are both deleted', async () => {
    await fs.rm(files().log);
    await fs.rm(files().head);
    const verify = await sandbox.run(['audit', 'verify']);
    expect(verify.code).toBe(5);
    expect(verify.stdout + verify.stderr).toMatch(/state key records that entries were written/);
  });

  it('exits 5, not 1, when a line is replaced by null, in verify and in show', async () => {
    const lines = pristine.log.trim().split('\n');
    lines[1] = 'null';
    await fs.writeFile(files().log, `${lines.join('\n')}\n`);
    const verify = await sandbox.run(['audit', 'verify']);
    expect(verify.code, verify.stderr).toBe(5);
    expect(verify.stdout).toMatch(/2\s+line is not an audit entry/);
    const show = await sandbox.run(['audit', 'show']);
    expect(show.code, show.stderr).toBe(5);
    expect(show.stderr).toMatch(/line 2: line is not an audit entry/);
  });
});
