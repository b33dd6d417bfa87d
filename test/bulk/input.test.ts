import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHANGES_MAX_ROWS, parseChanges, readChanges, readRecords } from '../../src/bulk/input.js';
import { CodeBook } from '../../src/bulk/codes.js';
import { inShard, parseShard, shardOf } from '../../src/bulk/shard.js';
import { planDir } from '../../src/bulk/journal.js';
import { claimPanels } from '../../src/bulk/claims.js';
import { processStartTime } from '../../src/state/process-lock.js';
import { parseInventory } from '../../src/inventory/load.js';
import { drivers } from '../../drivers/index.js';
import { allTargets } from '../../src/inventory/targets.js';

const targets = allTargets(
  parseInventory(
    `panels:
  oslo-1: { driver: integra, link: "tcp://10.0.0.1:7094", tags: { site: oslo } }
  oslo-2: { driver: integra, link: "tcp://10.0.0.2:7094", tags: { site: oslo } }
  bergen-1: { driver: dsc, link: "tcp://10.0.1.1:4025", tags: { site: bergen } }
`,
    'test',
    drivers.names,
  ),
);

const csv = (text: string) => readRecords(text, 'changes.csv');

describe('change list parsing', () => {
  it('asks no name for an add on panels that keep none (DSC), and still does where they do', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-input-'));
    try {
      const file = path.join(dir, 'c.csv');
      await fs.writeFile(file, 'panel,action,slot,code\nbergen-1,add,7,generate\n');
      expect((await readChanges(file, { drivers, targets }))[0]).toMatchObject({ panels: ['bergen-1'], action: 'add', slot: 7, name: undefined });
      await fs.writeFile(file, 'panel,action,slot,code\noslo-1,add,7,generate\n');
      await expect(readChanges(file, { drivers, targets })).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(/row 1 name: add needs the name/),
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('* without --limit is refused in a script unless --all, asked on a terminal, and never with --limit', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-input-'));
    try {
      const file = path.join(dir, 'c.csv');
      await fs.writeFile(file, 'panel,action,slot,code\n*,remove,4,\noslo-1,remove,5,\n');
      await expect(readChanges(file, { drivers, targets, everyPanel: {} })).rejects.toMatchObject({
        exitCode: 2,
        code: 'E_EVERY_PANEL',
        message: expect.stringMatching(/row 1 selects every panel in the inventory \(\*, 3 panels\) with no --limit/),
        hint: expect.stringMatching(/--all/),
      });
      expect(await readChanges(file, { drivers, targets, everyPanel: { all: true } })).toHaveLength(2);
      const asked: string[] = [];
      const confirm = async (q: string) => {
        asked.push(q);
        return false;
      };
      await expect(readChanges(file, { drivers, targets, everyPanel: { confirm } })).rejects.toMatchObject({ code: 'E_EVERY_PANEL' });
      expect(asked).toEqual([expect.stringMatching(/Plan for all of them\?/)]);
      expect(await readChanges(file, { drivers, targets, limit: 'site=oslo', everyPanel: {} })).toHaveLength(2);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('lists the first 20 problems and says how many more, keeping at most 1000 in the data', () => {
    const text = `panel,action,slot,code\n${'nowhere,remove,1,\n'.repeat(1500)}`;
    let error: any;
    try {
      parseChanges(csv(text), { targets });
    } catch (e) {
      error = e;
    }
    expect(error.hint).toMatch(/^1500 problem\(s\)/);
    expect(error.hint).toMatch(/\.\.\. and 1480 more$/);
    expect(error.hint.split('\n')).toHaveLength(22);
    expect(error.data.problems).toHaveLength(1000);
    expect(error.data.problemCount).toBe(1500);
  });

  it('refuses more rows than the limit, and a change list that never ends (/dev/zero), before parsing them all', async () => {
    expect(() => csv(`panel,action,slot,code\n${'oslo-1,remove,1,\n'.repeat(CHANGES_MAX_ROWS + 1)}`)).toThrow(/more than 100000 rows/);
    await expect(readChanges('/dev/zero', { drivers, targets })).rejects.toMatchObject({
      exitCode: 2,
      code: 'E_TOO_LARGE',
      message: expect.stringMatching(/larger than 16 MiB/),
    });
  });

  it('expands selectors and * within --limit, and reads JSON Lines too', () => {
    const rows = parseChanges(csv('panel,action,user,code\nsite=oslo,remove,Leaver,\n*,set-code,Bob,generate\n'), { targets, limit: 'site=oslo' });
    expect(rows.map((r) => r.panels)).toEqual([
      ['oslo-1', 'oslo-2'],
      ['oslo-1', 'oslo-2'],
    ]);
    const jsonl = readRecords('{"panel":"bergen-1","action":"add","slot":7,"name":"Manager","partitions":[1,2],"code":"stdin"}\n', 'c.jsonl');
    expect(parseChanges(jsonl, { targets })[0]).toMatchObject({ panels: ['bergen-1'], action: 'add', slot: 7, partitions: [1, 2], code: { source: 'stdin' } });
  });

  it('refuses partitions or a type on a row that is not an add, naming the column: they would be dropped unseen', () => {
    let error: any;
    try {
      parseChanges(csv('panel,action,slot,partitions,type,code\noslo-1,set-code,3,1,,generate\noslo-1,remove,4,,master,\noslo-2,set-code,3,,,generate\n'), {
        targets,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ exitCode: 2 });
    expect(error.data.problems).toEqual([
      expect.objectContaining({ row: 1, field: 'partitions', problem: expect.stringMatching(/only an add row sets it/) }),
      expect.objectContaining({ row: 2, field: 'type', problem: expect.stringMatching(/only an add row sets it/) }),
    ]);
  });

  it('reports every bad row at once, with row numbers, and never repeats a typed-in code', () => {
    const text = `panel,action,slot,user,name,code
nowhere,add,3,,X,generate
oslo-1,rename,3,,,
oslo-1,set-code,,,,918273
oslo-1,add,,,,generate
site=mars,remove,2,,,
oslo-2,remove,4,,,
oslo-2,set-code,4,,,codes:new
`;
    let error: any;
    try {
      parseChanges(csv(text), { targets });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ exitCode: 2 });
    const problems = error.data.problems.map((p: any) => `${p.row}:${p.field}`);
    expect(problems).toEqual(expect.arrayContaining(['1:panel', '2:action', '3:slot', '3:code', '4:name', '5:panel', '7:slot', '7:code']));
    expect(problems).not.toContain('6:slot');
    expect(JSON.stringify(error.data) + error.message + error.hint).not.toContain('918273');
  });

  it('resolves codes:COLUMN against the codes file by row, and refuses a codes file others can read', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-codes-'));
    const file = path.join(dir, 'codes.csv');
    await fs.writeFile(file, 'new\n\n573920\n', { mode: 0o600 });
    const book = await CodeBook.load(file);
    expect(book.lookup('new', 1)).toBe('ok');
    expect(book.lookup('new', 2)).toMatch(/no value in column "new" on row 2/);
    expect(book.lookup('old', 1)).toMatch(/no column "old"/);
    expect(book.get('new', 1).reveal()).toBe('573920');
    await fs.chmod(file, 0o644);
    await expect(CodeBook.load(file)).rejects.toMatchObject({ code: 'E_PERMISSIONS', exitCode: 2 });
    await fs.rm(dir, { recursive: true });
  });
});

describe('--shard i/n', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `panel-${i}`);

  it('splits the panels into disjoint shards that cover them all, the same way every time', () => {
    const shards = [0, 1, 2, 3].map((index) => names.filter((n) => inShard(n, { index, count: 4 })));
    expect(shards.flat().sort()).toEqual([...names].sort());
    for (const share of shards) expect(share.length).toBeGreaterThan(180); // roughly even
    expect(names.map((n) => shardOf(n, 4))).toEqual(names.map((n) => shardOf(n, 4)));
    expect(shardOf('panel-1', 7)).toBe(shardOf('panel-1', 7));
  });

  it('parses INDEX/COUNT from 0', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0 <= INDEX < COUNT/);
    expect(() => parseShard('1-4')).toThrow();
  });
});

describe('plan claims', () => {
  it('refuses an overlapping apply of the same plan at once, allows disjoint shards, and ignores a claim whose process was killed', async () => {
    const state = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-lock-'));
    const dir = planDir(state, '0123456789abcdef');
    const release = await claimPanels(dir, ['a', 'b'], { shard: '0/2' });
    await expect(claimPanels(dir, ['b', 'c'], { shard: null })).rejects.toMatchObject({
      code: 'E_PLAN_BUSY',
      exitCode: 4,
      message: expect.stringContaining(`process ${process.pid}`),
    });
    const disjoint = await claimPanels(dir, ['c'], { shard: '1/2' });
    await disjoint();
    await release();

    // A holder killed with -9 leaves its claim file behind: it must not count.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await new Promise((r) => child.once('spawn', r));
    const claim = {
      pid: child.pid,
      start: processStartTime(child.pid!),
      host: os.hostname(),
      since: new Date().toISOString(),
      token: 'x1',
      shard: null,
      panels: ['a'],
    };
    await fs.writeFile(path.join(dir, 'claims', 'x1.json'), JSON.stringify(claim));
    await expect(claimPanels(dir, ['a'], { shard: null })).rejects.toMatchObject({ code: 'E_PLAN_BUSY' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const again = await claimPanels(dir, ['a'], { shard: null });
    await again();
    await fs.rm(state, { recursive: true });
  });
});
