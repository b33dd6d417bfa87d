import { beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, auditPaths, hashOf, readAudit, verifyAudit, type AuditEntry } from '../../src/audit/log.js';

/**
 * A writer killed between the log's fsync and its head's rename leaves the log ahead of its signed
 * head. Made here directly: entries written by the real writer, then the earlier head's bytes put back.
 */

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-crash-'));
});

const record = (slot: number) => ({ operator: 'anna', ticket: 'T-1', panel: 'oslo', action: 'users.add', slot, outcome: 'ok' as const });
async function write(from: number, to: number) {
  for (let slot = from; slot <= to; slot++) await appendAudit(dir, record(slot));
}
/** Writes `signed` entries, then `cut` more whose head never took its name (as after kill -9). */
async function crashAfter(signed: number, cut: number) {
  await write(1, signed);
  const head = await fs.readFile(auditPaths(dir).head);
  await Promise.all(Array.from({ length: cut }, (_, i) => appendAudit(dir, record(signed + 1 + i))));
  await fs.writeFile(auditPaths(dir).head, head);
}
const logText = () => fs.readFile(auditPaths(dir).log, 'utf8');

describe('audit log after a writer was cut off before signing its head', () => {
  it('verify reports the unsigned entries after the signed head as such, not as tampering', async () => {
    await crashAfter(2, 3);
    const result = await verifyAudit(dir);
    expect(result.problems).toEqual([]);
    expect(result.unsigned).toEqual({ from: 3, to: 5 });
  });

  it('the next writer adopts them and signs them with an audit.recovered entry naming the range', async () => {
    await crashAfter(2, 3);
    expect(await appendAudit(dir, record(6))).toMatchObject({ seq: 7, slot: 6 });
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const recovered = entries[5];
    expect(recovered).toMatchObject({ operator: 'anna', panel: '', action: 'audit.recovered', outcome: 'ok', details: { from: 3, to: 5 } });
    expect(recovered.details?.why).toMatch(/after the signed head: a writer was cut off between syncing the log and signing its head/);
    expect(entries[6]).toMatchObject({ slot: 6, prev: recovered.hash });
    const result = await verifyAudit(dir);
    expect(result.problems).toEqual([]);
    expect(result.unsigned).toBeUndefined();
  });

  it('adopts nothing when the log holds exactly what the head names', async () => {
    await write(1, 3);
    expect((await readAudit(dir)).some((e) => e.action === 'audit.recovered')).toBe(false);
  });

  it('does not adopt entries after the head that do not chain: verify keeps reporting the break', async () => {
    await crashAfter(2, 2);
    const text = await logText();
    await fs.writeFile(auditPaths(dir).log, text.replace('"slot":4', '"slot":9'));
    const before = await verifyAudit(dir);
    expect(before.problems.some((p) => /edited/.test(p.problem))).toBe(true);
    expect(before.unsigned).toBeUndefined();
    await write(5, 5);
    const entries = (await logText())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.some((e) => e.action === 'audit.recovered')).toBe(false);
    // Continued from the head, as before: the new entry is seq 3 again, and verify says so.
    expect(entries.at(-1)).toMatchObject({ seq: 3, slot: 5 });
    const { problems, unsigned } = await verifyAudit(dir);
    expect(unsigned).toBeUndefined();
    expect(problems.some((p) => /sequence 3 where 5 was expected/.test(p.problem))).toBe(true);
  });

  it('with a torn last line: cuts it, adopts the whole entries before it, and never writes a sequence number twice', async () => {
    await crashAfter(2, 2);
    const text = await logText();
    await fs.writeFile(auditPaths(dir).log, text.slice(0, -20)); // power lost mid-line: entry 4 half written, no newline
    expect((await verifyAudit(dir)).unsigned).toBeUndefined();
    await write(5, 5);
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[2]).toMatchObject({ slot: 3 });
    expect(entries[3]).toMatchObject({ action: 'audit.recovered', details: { from: 3, to: 3, cutBytes: (text.split('\n').at(-2) as string).length - 19 } });
    expect(entries[3].details?.cut).toMatch(/cut off mid-write/);
    expect(entries[4]).toMatchObject({ slot: 5, prev: entries[3].hash });
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('takes a whole last entry without its newline as an entry: reported unsigned, adopted, the next entry not glued onto it', async () => {
    await crashAfter(2, 1);
    await fs.writeFile(auditPaths(dir).log, (await logText()).slice(0, -1));
    expect((await verifyAudit(dir)).unsigned).toEqual({ from: 3, to: 3 });
    await write(4, 4);
    const entries = await readAudit(dir);
    expect(entries.map((e) => [e.seq, e.action])).toEqual([
      [1, 'users.add'],
      [2, 'users.add'],
      [3, 'users.add'],
      [4, 'audit.recovered'],
      [5, 'users.add'],
    ]);
    expect(entries[3].details).not.toHaveProperty('cutBytes');
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('adopts a cut-off tail with a blank line in it, as verify reads it', async () => {
    await crashAfter(2, 2);
    const lines = (await logText()).split('\n');
    await fs.writeFile(auditPaths(dir).log, [...lines.slice(0, 3), '  ', ...lines.slice(3)].join('\n'));
    expect((await verifyAudit(dir)).unsigned).toEqual({ from: 3, to: 4 });
    await write(5, 5);
    expect((await readAudit(dir)).find((e) => e.action === 'audit.recovered')?.details).toMatchObject({ from: 3, to: 4 });
  });

  /** Entries forged well-hashed: what a writer of the log without the key could add. */
  const forge = (entry: Omit<AuditEntry, 'hash'>): AuditEntry => ({ ...entry, hash: hashOf(entry) });
  const parsed = async () =>
    (await logText())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
  async function notAdopted(log: string[]) {
    await fs.writeFile(auditPaths(dir).log, `${log.join('\n')}\n`);
    expect((await verifyAudit(dir)).unsigned).toBeUndefined();
    await write(9, 9);
    expect((await logText()).includes('audit.recovered')).toBe(false);
  }

  it('does not adopt well-hashed entries after the head with a gap in the sequence or not following the head', async () => {
    await write(1, 2);
    const [, second] = await parsed();
    const base = { v: 1 as const, time: second.time, operator: 'mallory', panel: 'oslo', action: 'users.add', outcome: 'ok' as const };
    const lines = (await logText()).trim().split('\n');
    const gap = forge({ ...base, seq: 4, prev: second.hash });
    await notAdopted([...lines, JSON.stringify(gap)]);
    await fs.rm(dir, { recursive: true });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-crash-'));
    await write(1, 2);
    const again = (await logText()).trim().split('\n');
    await notAdopted([...again, JSON.stringify(forge({ ...base, seq: 3, prev: second.hash }))]);
  });

  it('does not adopt a tail behind a line that is not the head entry (an inserted copy of its number, garbage)', async () => {
    await crashAfter(2, 1);
    const [first, second, third] = await parsed();
    const { hash: _hash, ...unhashed } = second;
    const copy = forge({ ...unhashed, slot: 99 });
    await notAdopted([first, second, copy, third].map((e) => JSON.stringify(e)));
    await fs.rm(dir, { recursive: true });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-crash-'));
    await crashAfter(2, 1);
    const lines = (await logText()).trim().split('\n');
    await notAdopted([...lines.slice(0, 2), 'garbage', lines[2]]);
  });

  it('verify: an intact chain that lacks the entry the signed head names is a break, not an unsigned tail', async () => {
    await crashAfter(2, 2);
    const [first, second, third, fourth] = await parsed();
    // Entries 2..4 rewritten with a recomputed chain under the old head that signed entry 2.
    const rehash = ({ hash: _old, ...entry }: AuditEntry, change: Partial<AuditEntry>) => forge({ ...entry, ...change });
    const second2 = rehash(second, { slot: 42 });
    const third2 = rehash(third, { prev: second2.hash });
    const fourth2 = rehash(fourth, { prev: third2.hash });
    await fs.writeFile(auditPaths(dir).log, `${[first, second2, third2, fourth2].map((e) => JSON.stringify(e)).join('\n')}\n`);
    const { problems, unsigned } = await verifyAudit(dir);
    expect(unsigned).toBeUndefined();
    expect(problems.map((p) => p.problem)).toEqual([expect.stringMatching(/the log ends at entry 4 but the signed head says 2/)]);
  });

  it('cuts a torn last line even when the head names the entry before it, saying so', async () => {
    await write(1, 2);
    await fs.appendFile(auditPaths(dir).log, '{"v":1,"seq":3,"ti');
    await write(3, 3);
    const lines = (await logText()).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[2])).toMatchObject({ seq: 3, action: 'audit.recovered', details: { cutBytes: 18 } });
    expect(JSON.parse(lines[2]).details).not.toHaveProperty('from');
    expect(JSON.parse(lines[3])).toMatchObject({ seq: 4, slot: 3 });
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('keeps a last line without its newline that is JSON but no entry: ended, not cut, reported by verify', async () => {
    await write(1, 2);
    await fs.appendFile(auditPaths(dir).log, 'null');
    await write(3, 3);
    const lines = (await logText()).trim().split('\n');
    expect(lines[2]).toBe('null');
    expect(JSON.parse(lines[3])).toMatchObject({ seq: 3, slot: 3 });
    expect((await logText()).includes('audit.recovered')).toBe(false);
    expect((await verifyAudit(dir)).problems).toEqual([{ line: 3, problem: 'line is not an audit entry (the line was replaced or damaged)' }]);
  });

  it('does not adopt a tail when the entries up to the head are gone from the front of the log', async () => {
    await crashAfter(2, 2);
    const lines = (await logText()).trim().split('\n');
    await notAdopted(lines.slice(2));
  });

  it('adopts a cut-off tail larger than the tail read at once', async () => {
    await crashAfter(1, 200);
    await write(202, 202);
    const entries = await readAudit(dir);
    expect(entries.find((e) => e.action === 'audit.recovered')?.details).toMatchObject({ from: 2, to: 201 });
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });
});
