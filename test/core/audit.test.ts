import { describe, expect, it, beforeEach } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, auditPaths, readAudit, verifyAudit } from '../../src/audit/log.js';

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
});
