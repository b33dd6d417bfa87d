import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, auditPaths, GENESIS, readAudit, verifyAudit } from '../../src/audit/log.js';

/**
 * A writer cut off during the log's very first write leaves entries but no signed head yet. The next writer must treat
 * that tail as it treats one after a signed head (test/core/audit-crash.test.ts): complete entries adopted and signed
 * with an audit.recovered entry, a torn last line cut, and no sequence number written twice.
 */

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-audit-first-'));
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const record = (slot: number) => ({ operator: 'anna', ticket: 'T-1', panel: 'oslo', action: 'users.add', slot, outcome: 'ok' as const });
const logText = () => fs.readFile(auditPaths(dir).log, 'utf8');
/** A first batch of `count` entries whose head never took its name (kill -9 between the log's fsync and the head's rename). */
async function firstWriteCutOff(count: number) {
  await Promise.all(Array.from({ length: count }, (_, i) => appendAudit(dir, record(i + 1))));
  await fs.rm(auditPaths(dir).head);
}

describe('audit log after a writer was cut off during its first write (no head yet)', () => {
  it('adopts the complete entries with an audit.recovered entry naming them, and verify finds the log intact', async () => {
    await firstWriteCutOff(3);
    expect(await appendAudit(dir, record(9))).toMatchObject({ seq: 5, slot: 9 });
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[3]).toMatchObject({ action: 'audit.recovered', operator: 'anna', panel: '', details: { from: 1, to: 3 } });
    expect(entries[3].details?.why).toMatch(/no signed head/);
    expect(entries[4].prev).toBe(entries[3].hash);
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('with a torn last line: cuts it, goes on from the last complete entry, never repeats a sequence number', async () => {
    await firstWriteCutOff(2);
    const text = await logText();
    const torn = text.slice(0, -20);
    await fs.writeFile(auditPaths(dir).log, torn); // power lost mid-line: entry 2 half written
    await appendAudit(dir, record(9));
    const entries = await readAudit(dir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[0].prev).toBe(GENESIS);
    expect(entries[1]).toMatchObject({ action: 'audit.recovered', details: { from: 1, to: 1, cutBytes: torn.length - torn.lastIndexOf('\n') - 1 } });
    expect(entries[2]).toMatchObject({ slot: 9, prev: entries[1].hash });
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });

  it('with only a torn line (the first entry half written): cuts it and starts at 1, saying so', async () => {
    await firstWriteCutOff(1);
    await fs.writeFile(auditPaths(dir).log, (await logText()).slice(0, 30));
    await appendAudit(dir, record(9));
    const entries = await readAudit(dir);
    expect(entries.map((e) => [e.seq, e.action])).toEqual([
      [1, 'audit.recovered'],
      [2, 'users.add'],
    ]);
    expect(entries[0].details).toMatchObject({ cutBytes: 30 });
    expect((await verifyAudit(dir)).problems).toEqual([]);
  });
});
