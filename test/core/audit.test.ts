import { describe, expect, it, beforeEach } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, auditPaths, hashOf, readAudit, verifyAudit, type AuditEntry } from '../../src/audit/log.js';
import { stateKeyPath } from '../../src/state/state-key.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-'));
});

async function write(n: number) {
  for (let i = 1; i <= n; i++) await appendAudit(dir, { operator: 'anna', ticket: 'T-1', panel: 'oslo', action: 'users.add', slot: i, outcome: 'ok' });
}

describe('audit log', () => {
  it('chains entries and verifies an intact log', async () => {
    await write(4);
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[1].prev).toBe(entries[0].hash);
    expect((await verifyAudit(dir)).problems).toEqual([]);
    const mode = (await fs.stat(auditPaths(dir).log)).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('detects an edited entry', async () => {
    await write(3);
    const file = auditPaths(dir).log;
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('"slot":2', '"slot":7'));
    const { problems } = await verifyAudit(dir);
    expect(problems.some((p) => p.line === 2 && /edited/.test(p.problem))).toBe(true);
  });

  it('detects a removed entry in the middle and at the end', async () => {
    await write(3);
    const file = auditPaths(dir).log;
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
    await fs.writeFile(file, `${[lines[0], lines[2]].join('\n')}\n`);
    expect((await verifyAudit(dir)).problems.some((p) => /removed/.test(p.problem))).toBe(true);

    await fs.writeFile(file, `${lines.slice(0, 2).join('\n')}\n`);
    expect((await verifyAudit(dir)).problems.some((p) => /cut off the end/.test(p.problem))).toBe(true);
  });

  it('keeps the chain whole under concurrent appends', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendAudit(dir, { operator: 'x', panel: `p${i}`, action: 'users.remove', outcome: 'ok' })));
    const result = await verifyAudit(dir);
    expect(result.entries).toBe(20);
    expect(result.problems).toEqual([]);
  });

  const lines = async () => (await fs.readFile(auditPaths(dir).log, 'utf8')).trim().split('\n');
  const problemsText = async () => (await verifyAudit(dir)).problems.map((p) => `${p.line}: ${p.problem}`).join('\n');

  it('detects entries cut off the end even when the head is rewritten to match (no key, no signature)', async () => {
    await write(4);
    const kept = (await lines()).slice(0, 2);
    await fs.writeFile(auditPaths(dir).log, `${kept.join('\n')}\n`);
    const last = JSON.parse(kept[1]) as AuditEntry;
    await fs.writeFile(auditPaths(dir).head, JSON.stringify({ seq: last.seq, hash: last.hash }));
    expect(await problemsText()).toMatch(/head is not signed with this state dir's key/);
  });

  it('detects a deleted log and head while the state key says entries were written', async () => {
    await write(2);
    await fs.rm(auditPaths(dir).log);
    await fs.rm(auditPaths(dir).head);
    expect(await problemsText()).toMatch(/missing or empty, but the state key records that entries were written/);
    // Deleting the key as well leaves nothing to compare with: that is the limit (SECURITY.md).
    await fs.rm(stateKeyPath(dir));
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('treats any line that is not an entry as tampering: reported by verify, exit 5 for readers', async () => {
    for (const junk of ['null', '[]', '{}', '42', '{"v":1,"seq":2}', 'not json']) {
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { mode: 0o700 });
      await write(3);
      const all = await lines();
      all[1] = junk;
      await fs.writeFile(auditPaths(dir).log, `${all.join('\n')}\n`);
      expect(await problemsText()).toMatch(/^2: line is not (valid JSON|an audit entry)/m);
      await expect(readAudit(dir)).rejects.toMatchObject({ exitCode: 5, code: 'E_AUDIT_BROKEN', message: expect.stringMatching(/line 2/) });
    }
  });

  // Issue 21: mutants that survived in log.ts. An edited entry whose own hash is recomputed is
  // caught only by the chain link of the entry after it.
  it('detects an entry edited with its own hash recomputed (the next entry no longer follows it)', async () => {
    await write(3);
    const all = await lines();
    const { hash: _old, ...middle } = JSON.parse(all[1]) as AuditEntry;
    const forged = { ...middle, slot: 99 };
    all[1] = JSON.stringify({ ...forged, hash: hashOf(forged) });
    await fs.writeFile(auditPaths(dir).log, `${all.join('\n')}\n`);
    const { problems } = await verifyAudit(dir);
    expect(problems).toEqual([{ line: 3, problem: expect.stringMatching(/does not follow the entry before it/) }]);
  });

  it('detects a replaced last entry that is well chained, same sequence number, new hash', async () => {
    await write(3);
    const all = await lines();
    const { hash: _old, ...last } = JSON.parse(all[2]) as AuditEntry;
    const forged = { ...last, outcome: 'failed' as const };
    all[2] = JSON.stringify({ ...forged, hash: hashOf(forged) });
    await fs.writeFile(auditPaths(dir).log, `${all.join('\n')}\n`);
    const { problems } = await verifyAudit(dir);
    expect(problems).toEqual([{ line: 3, problem: expect.stringMatching(/signed head says 3 were written .*last entry was replaced/) }]);
  });
});
