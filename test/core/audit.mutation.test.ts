import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readlinkSync } from 'node:fs';
import fsNow from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, auditPaths, hashOf, prepareAudit, readAudit, verifyAudit, type AuditEntry } from '../../src/audit/log.js';
import { stateKeyPath } from '../../src/state/state-key.js';

// Each check of the audit log pinned by its exact finding (issue 21: a mutation run showed which checks and
// messages no test would notice going wrong).

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-m-'));
  await fs.chmod(dir, 0o700);
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const record = (slot: number) => ({ operator: 'anna', panel: 'oslo', action: 'users.add', slot, outcome: 'ok' as const });
async function write(n: number, from = 1) {
  for (let i = from; i < from + n; i++) await appendAudit(dir, record(i));
}
const lines = async () => (await fs.readFile(auditPaths(dir).log, 'utf8')).trim().split('\n');
const setLines = (all: string[]) => fs.writeFile(auditPaths(dir).log, `${all.join('\n')}\n`);
const problems = async () => (await verifyAudit(dir)).problems;
const HEAD_MISSING = 'the head file audit.head.json is missing (it records how many entries were written)';
const HEAD_MALFORMED = 'the head file audit.head.json is not a head (it was replaced or damaged)';

describe('the head', () => {
  it('missing after entries were written', async () => {
    await write(2);
    await fs.rm(auditPaths(dir).head);
    expect(await problems()).toEqual([{ line: 2, problem: HEAD_MISSING }]);
  });

  it('not a head: not JSON, no whole sequence number, or no hash', async () => {
    await write(2);
    for (const text of ['not json', 'null', '{"hash":"ab"}', '{"seq":1.5,"hash":"ab"}', '{"seq":"2","hash":"ab"}', '{"seq":2}', '{"seq":2,"hash":7}']) {
      await fs.writeFile(auditPaths(dir).head, text);
      expect(await problems(), text).toEqual([{ line: 2, problem: HEAD_MALFORMED }]);
    }
  });

  it('no state key to check it with', async () => {
    await write(2);
    await fs.rm(stateKeyPath(dir));
    expect(await problems()).toEqual([
      {
        line: 2,
        problem:
          'there is no state key (state.key) to check the head with: it was deleted, or the log was written by a panelctl that did not sign its head yet (the next write signs it)',
      },
    ]);
    // Verifying does not make a key up.
    await expect(fs.stat(stateKeyPath(dir))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('signed over its sequence number and hash: changing either, or dropping the signature, is found', async () => {
    await write(3);
    const head = JSON.parse(await fs.readFile(auditPaths(dir).head, 'utf8')) as { seq: number; hash: string; mac: string };
    const unsigned = "the head is not signed with this state dir's key (it was rewritten or copied from elsewhere)";
    for (const forged of [
      { ...head, seq: 2 },
      { ...head, hash: '0'.repeat(64) },
      { seq: head.seq, hash: head.hash },
    ]) {
      await fs.writeFile(auditPaths(dir).head, JSON.stringify(forged));
      expect(await problems()).toEqual([{ line: 3, problem: unsigned }]);
    }
  });

  it('names the last entry: a log one entry short of a correctly signed head is found', async () => {
    await write(3);
    const all = await lines();
    await setLines(all.slice(0, 2));
    expect(await problems()).toEqual([
      { line: 2, problem: 'the log ends at entry 2 but the signed head says 3 were written (entries were cut off the end or the last entry was replaced)' },
    ]);
  });

  it('an empty state is intact, and stays so after prepareAudit, which makes the key a head will be signed with', async () => {
    expect(await verifyAudit(dir)).toEqual({ entries: 0, problems: [] });
    await prepareAudit(dir);
    expect((await fs.stat(stateKeyPath(dir))).isFile()).toBe(true);
    expect(await verifyAudit(dir)).toEqual({ entries: 0, problems: [] });
  });
});

describe('entries', () => {
  it('finds a sequence gap, naming both numbers', async () => {
    await write(3);
    const all = await lines();
    const { hash: _h, ...third } = JSON.parse(all[2]) as AuditEntry;
    const renumbered = { ...third, seq: 5 };
    all[2] = JSON.stringify({ ...renumbered, hash: hashOf(renumbered) });
    await setLines(all);
    expect((await problems())[0]).toEqual({ line: 3, problem: 'sequence 5 where 3 was expected (an entry was removed or inserted)' });
  });

  it('a line is an entry only with v 1, a whole seq, 64-hex prev and hash and a time', async () => {
    await write(2);
    const good = JSON.parse((await lines())[1]) as AuditEntry;
    const broken: Array<[string, unknown]> = [
      ['v', 2],
      ['seq', 2.5],
      ['prev', good.prev.toUpperCase()],
      ['prev', `${good.prev}0`],
      ['prev', `0${good.prev}`],
      ['prev', 7],
      ['prev', [good.prev]],
      ['hash', `${good.hash}f`],
      ['hash', `x${good.hash.slice(1)}`],
      ['time', 12],
    ];
    for (const [field, value] of broken) {
      const all = await lines();
      all[1] = JSON.stringify({ ...good, [field]: value });
      await setLines(all);
      expect((await problems())[0], `${field}=${String(value)}`).toEqual({ line: 2, problem: 'line is not an audit entry (the line was replaced or damaged)' });
      all[1] = JSON.stringify(good);
      await setLines(all);
    }
    const all = await lines();
    all[1] = '"a string"';
    await setLines(all);
    expect((await problems())[0]).toEqual({ line: 2, problem: 'line is not an audit entry (the line was replaced or damaged)' });
    all[1] = '{"v":1,';
    await setLines(all);
    expect((await problems())[0]).toEqual({ line: 2, problem: 'line is not valid JSON (the line was replaced or damaged)' });
  });

  it('blank lines are not entries and not problems', async () => {
    await write(2);
    const all = await lines();
    await setLines([all[0], '   ', '', all[1]]);
    expect(await verifyAudit(dir)).toEqual({ entries: 2, problems: [] });
    expect(await readAudit(dir)).toHaveLength(2);
  });

  it('readers refuse a broken log with exit 5, naming the line, and point to verify', async () => {
    await write(2);
    const all = await lines();
    all[0] = 'garbage';
    await setLines(all);
    await expect(readAudit(dir)).rejects.toMatchObject({
      exitCode: 5,
      code: 'E_AUDIT_BROKEN',
      message: 'the audit log is not intact: line 1: line is not valid JSON',
      hint: 'run `panelctl audit verify` for every problem found',
    });
  });

  it('hashes do not depend on the order of the fields', () => {
    const a = { v: 1 as const, seq: 1, time: 't', prev: '0'.repeat(64), operator: 'x', panel: 'p', action: 'a', outcome: 'ok' as const };
    const b = { outcome: 'ok' as const, action: 'a', panel: 'p', operator: 'x', prev: '0'.repeat(64), time: 't', seq: 1, v: 1 as const };
    expect(hashOf(a)).toBe(hashOf(b));
    expect(hashOf(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf({ ...a, panel: 'q' })).not.toBe(hashOf(a));
  });
});

describe('writing after damage', () => {
  it('with a damaged head, the chain goes on from the last entry of the log', async () => {
    await write(2);
    await fs.writeFile(auditPaths(dir).head, 'damaged');
    await write(1, 3);
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[2].prev).toBe(entries[1].hash);
    expect(await problems()).toEqual([]);
  });

  it('with a signed head ahead of a cut-off log, the chain goes on from the head, so the gap stays visible', async () => {
    await write(3);
    await setLines((await lines()).slice(0, 2));
    await write(1, 4);
    expect((await readAudit(dir)).map((e) => e.seq)).toEqual([1, 2, 4]);
    expect((await problems())[0]).toEqual({ line: 3, problem: 'sequence 4 where 3 was expected (an entry was removed or inserted)' });
  });

  it('without a head, a log that chains from the start is adopted with an audit.recovered entry; with no log either, the chain starts at 1', async () => {
    await write(2);
    await fs.rm(auditPaths(dir).head);
    await write(1, 3);
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[2]).toMatchObject({
      action: 'audit.recovered',
      details: { from: 1, to: 2, why: expect.stringMatching(/^on disk with no signed head: a writer was cut off in the log's first write/) },
    });
    expect(await problems()).toEqual([]);
    await fs.rm(auditPaths(dir).log);
    await fs.rm(auditPaths(dir).head);
    await write(1, 5);
    expect((await readAudit(dir)).map((e) => [e.seq, e.prev, e.action])).toEqual([[1, '0'.repeat(64), 'users.add']]);
  });

  it('without a head, a log whose last line is damaged goes on from its last entry: no sequence number twice (verify reports the damage)', async () => {
    await write(3);
    await fs.rm(auditPaths(dir).head);
    const all = await lines();
    await setLines([...all, 'damaged']);
    await write(1, 4);
    const text = await fs.readFile(auditPaths(dir).log, 'utf8');
    const last = JSON.parse(text.trim().split('\n').at(-1) as string) as AuditEntry;
    expect(last).toMatchObject({ seq: 4, prev: (JSON.parse(all[2]) as AuditEntry).hash, slot: 4 });
    expect(text).not.toContain('audit.recovered');
    expect(await problems()).toEqual([{ line: 4, problem: 'line is not valid JSON (the line was replaced or damaged)' }]);
  });

  it('a last line of blanks without its newline is not a torn line: nothing cut, nothing recorded', async () => {
    await write(1);
    await fs.appendFile(auditPaths(dir).log, '   ');
    await write(1, 2);
    expect(await fs.readFile(auditPaths(dir).log, 'utf8')).toMatch(/\}\n {3}\n\{/);
    expect((await readAudit(dir)).map((e) => [e.seq, e.action])).toEqual([
      [1, 'users.add'],
      [2, 'users.add'],
    ]);
  });

  it('a failed write rejects every record of its batch, and the next write goes through', async () => {
    await write(1);
    await fs.chmod(auditPaths(dir).log, 0o644);
    const batch = [appendAudit(dir, record(2)), appendAudit(dir, record(3))];
    for (const result of await Promise.allSettled(batch)) {
      expect(result.status).toBe('rejected');
      expect(String((result as PromiseRejectedResult).reason.message)).toContain('audit log');
    }
    await fs.chmod(auditPaths(dir).log, 0o600);
    await write(1, 4);
    expect((await readAudit(dir)).map((e) => e.slot)).toEqual([1, 4]);
  });

  it('names the file it refuses: the audit head', async () => {
    await write(1);
    await fs.chmod(auditPaths(dir).head, 0o644);
    await expect(appendAudit(dir, record(2))).rejects.toThrow(/audit head/);
    await expect(verifyAudit(dir)).rejects.toThrow(/audit head/);
  });

  it('names the file it refuses to read: the audit log', async () => {
    await write(1);
    await fs.chmod(auditPaths(dir).log, 0o644);
    await expect(verifyAudit(dir)).rejects.toThrow(/audit log/);
    await expect(readAudit(dir)).rejects.toThrow(/audit log/);
  });
});

describe('durability', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the log itself is fsynced before its head names the new entries (the head is renamed in only after)', async () => {
    await write(1);
    const fsync = fsNow.fsync;
    const seen: Array<{ file: string; headSeq: number }> = [];
    vi.spyOn(fsNow, 'fsync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      // Which file is synced (Linux names it), and what the head says at that moment.
      const head = JSON.parse(fsNow.readFileSync(auditPaths(dir).head, 'utf8')) as { seq: number };
      seen.push({ file: path.basename(readlinkSync(`/proc/self/fd/${fd}`)), headSeq: head.seq });
      fsync(fd, callback);
    }) as typeof fsync);
    await write(1, 2);
    expect(seen).toContainEqual({ file: 'audit.jsonl', headSeq: 1 });
    expect(JSON.parse(await fs.readFile(auditPaths(dir).head, 'utf8')).seq).toBe(2);
  });
});
