import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';

/**
 * `panelctl state import --from-dir DIR` (issue 18 item 6): an engineer's files state (audit log,
 * a lease, a bulk journal) moves into the desk's store; the chain is verified first, and importing
 * again adds nothing.
 */
let url: string;
let laptop: Sandbox;
const PLAN = '0123456789abcdef';
const team = () => ({ PANELCTL_STATE: url });

describe.skipIf(postgresMissing)('state import', () => {
  beforeAll(async () => {
    url = await freshDatabase('import');
    laptop = await makeSandbox();
    // Files state as one engineer's laptop has it: two audited writes, a test on, a bulk journal.
    for (const [slot, code] of [
      ['3', '583920'],
      ['4', '583921'],
    ]) {
      const set = await laptop.run(['users', 'set-code', '--panel', 'demo', '--slot', slot, '--code-stdin'], { input: `${code}\n` });
      expect(set.code, set.stderr).toBe(0);
    }
    const start = await laptop.run(['test-mode', 'start', '--panel', 'demo', '--for', '45m', '--station-confirmed']);
    expect(start.code, start.stderr).toBe(0);
    const journal = path.join(laptop.stateDir, 'bulk', PLAN);
    await fs.mkdir(journal, { recursive: true, mode: 0o700 });
    const line = (event: string) => JSON.stringify({ time: new Date().toISOString(), step: 's1', panel: 'demo', event, slot: 5, action: 'set-code' });
    await fs.writeFile(path.join(journal, 'journal.jsonl'), `${line('started')}\n${line('done')}\n`, { mode: 0o600 });
    expect((await laptop.run(['state', 'migrate'], { env: team() })).code).toBe(0);
  });

  afterAll(() => laptop?.cleanup());

  it('moves audit, leases and journals in, verified and marked, and a second run adds nothing', async () => {
    const first = await laptop.run(['state', 'import', '--from-dir', laptop.stateDir, '-o', 'json'], { env: team() });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      audit: { imported: 3, already: 0 },
      leases: { imported: 1, conflicts: [] },
      journals: { plans: 1, imported: 2, already: 0 },
    });
    const again = await laptop.run(['state', 'import', '--from-dir', laptop.stateDir, '-o', 'json'], { env: team() });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ audit: { imported: 0, already: 3 }, leases: { imported: 1 }, journals: { imported: 0, already: 2 } });

    const entries = JSON.parse((await laptop.run(['audit', 'show', '-o', 'json'], { env: team() })).stdout).entries;
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['users.set-code', 'users.set-code', 'test-mode.start']);
    expect(entries[0].details).toMatchObject({ importedFrom: laptop.stateDir, importedSeq: 1 });
    const verify = await laptop.run(['audit', 'verify', '-o', 'json'], { env: team() });
    expect(JSON.parse(verify.stdout)).toMatchObject({ entries: 3, intact: true });
    const status = JSON.parse((await laptop.run(['test-mode', 'status', '-o', 'json'], { env: team() })).stdout);
    expect(status.leases.map((l: { panel: string }) => l.panel)).toEqual(['demo']);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM panelctl_journal WHERE plan = $1', [PLAN])).toEqual([{ n: 2 }]);
    expect(JSON.stringify(await sql(url, 'SELECT * FROM panelctl_audit'))).not.toContain('583920');
  });

  it('marks the entries a cut-off writer left after the signed head as unsigned in the source', async () => {
    const crashed = await makeSandbox();
    try {
      const head = path.join(crashed.stateDir, 'audit.head.json');
      const set = (slot: string, code: string) => crashed.run(['users', 'set-code', '--panel', 'demo', '--slot', slot, '--code-stdin'], { input: `${code}\n` });
      expect((await set('5', '583930')).code).toBe(0);
      const signedThroughOne = await fs.readFile(head);
      expect((await set('6', '583931')).code).toBe(0);
      // What a kill between the log's fsync and the head's rename leaves: the log one entry ahead of its head.
      await fs.writeFile(head, signedThroughOne);
      const result = await crashed.run(['state', 'import', '--from-dir', crashed.stateDir, '-o', 'json'], { env: team() });
      expect(result.code, result.stderr).toBe(0);
      const entries = JSON.parse((await crashed.run(['audit', 'show', '-o', 'json'], { env: team() })).stdout).entries as Array<{
        details: Record<string, unknown>;
      }>;
      const mine = entries.filter((e) => e.details.importedFrom === crashed.stateDir);
      expect(mine.map((e) => [e.details.importedSeq, e.details.unsignedInSource !== undefined])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(mine[1].details.unsignedInSource).toMatch(/cut off between syncing the log and signing its head/);
    } finally {
      await crashed.cleanup();
    }
  });

  it('refuses a state dir whose audit chain is broken, importing nothing (exit 5)', async () => {
    const broken = await makeSandbox();
    try {
      await fs.cp(laptop.stateDir, broken.stateDir, { recursive: true });
      const log = path.join(broken.stateDir, 'audit.jsonl');
      const lines = (await fs.readFile(log, 'utf8')).trim().split('\n');
      lines[0] = lines[0].replace('"users.set-code"', '"users.remove"');
      await fs.writeFile(log, `${lines.join('\n')}\n`);
      const before = await sql(url, 'SELECT count(*)::int AS n FROM panelctl_audit');
      const result = await broken.run(['state', 'import', '--from-dir', broken.stateDir], { env: team() });
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/is not intact .*nothing was imported/);
      expect(await sql(url, 'SELECT count(*)::int AS n FROM panelctl_audit')).toEqual(before);
    } finally {
      await broken.cleanup();
    }
  });
});
