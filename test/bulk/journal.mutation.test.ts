import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Journal, journalFile, planDir, readJournal, type JournalEntry } from '../../src/bulk/journal.js';

// The plan journal read and written directly (the resume suite drives it through dist/, which a mutation
// run cannot see; issue 21).

const roots: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-journal-'));
  await fs.chmod(dir, 0o700);
  roots.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of roots) await fs.rm(dir, { recursive: true, force: true });
});

const line = (entry: JournalEntry) => `${JSON.stringify(entry)}\n`;
const at = (second: number) => `2026-01-01T10:00:${String(second).padStart(2, '0')}.000Z`;

describe('journal paths', () => {
  it('one directory per plan, one file per shard argument', () => {
    expect(planDir('/state', 'p1')).toBe(path.join('/state', 'bulk', 'p1'));
    expect(journalFile('/state/bulk/p1')).toBe(path.join('/state/bulk/p1', 'journal.jsonl'));
    expect(journalFile('/state/bulk/p1', { index: 2, count: 3 })).toBe(path.join('/state/bulk/p1', 'journal.shard-2-of-3.jsonl'));
  });
});

describe('reading a plan journal', () => {
  it('is empty for a plan never run', async () => {
    expect((await readJournal(path.join(await tempDir(), 'never'))).size).toBe(0);
  });

  it('passes on an error other than a missing directory', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'file'), '');
    await expect(readJournal(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('merges every shard journal in time order; the last event wins and "started" is remembered', async () => {
    const dir = await tempDir();
    await fs.writeFile(
      path.join(dir, 'journal.shard-1-of-2.jsonl'),
      line({ time: at(3), step: 'a', panel: 'p', event: 'done', how: 'written' }) + line({ time: at(1), step: 'b', panel: 'p', event: 'failed' }),
    );
    await fs.writeFile(
      path.join(dir, 'journal.jsonl'),
      line({ time: at(2), step: 'a', panel: 'p', event: 'started', codesFile: '/codes.csv' }) +
        '\n   \n' +
        line({ time: at(4), step: 'b', panel: 'p', event: 'failed', attempt: 2 }),
    );
    const steps = await readJournal(dir);
    expect([...steps.keys()].sort()).toEqual(['a', 'b']);
    expect(steps.get('a')).toEqual({ last: { time: at(3), step: 'a', panel: 'p', event: 'done', how: 'written' }, started: true, codesFile: '/codes.csv' });
    expect(steps.get('b')).toEqual({ last: { time: at(4), step: 'b', panel: 'p', event: 'failed', attempt: 2 }, started: false, codesFile: undefined });
  });

  it('orders by time, not by file; equal times in file-name order, however the directory lists them', async () => {
    for (const creation of [
      ['a', 'b', 'c'],
      ['c', 'b', 'a'],
    ]) {
      const dir = await tempDir();
      const content: Record<string, string> = {
        a: line({ time: at(9), step: 's', panel: 'p', event: 'done' }),
        b: line({ time: at(5), step: 's', panel: 'p', event: 'started' }) + line({ time: at(9), step: 't', panel: 'p', event: 'started' }),
        c: line({ time: at(9), step: 't', panel: 'p', event: 'failed' }),
      };
      for (const name of creation) await fs.writeFile(path.join(dir, `journal.${name}.jsonl`), content[name]);
      const steps = await readJournal(dir);
      expect(steps.get('s')?.last.event).toBe('done');
      expect(steps.get('s')?.started).toBe(true);
      expect(steps.get('t')?.last.event, creation.join()).toBe('failed');
    }
  });

  it('breaks ties by file name whatever order the directory lists the files in', async () => {
    const dir = await tempDir();
    // Twenty shards with the same moment for one step: the last by name must win, whatever readdir returns.
    const names = Array.from({ length: 20 }, (_, i) => `journal.shard-${String(i).padStart(2, '0')}-of-20.jsonl`);
    // Created neither in name order nor in its reverse, so no directory listing order matches the names by chance.
    for (const name of [...names.slice(10), ...names.slice(0, 10)]) {
      const event = name === names.at(-1) ? 'done' : 'failed';
      await fs.writeFile(path.join(dir, name), line({ time: at(9), step: 'tie', panel: 'p', event, attempt: names.indexOf(name) }));
    }
    expect((await readJournal(dir)).get('tie')?.last).toMatchObject({ event: 'done', attempt: 19 });
  });

  it('reads only journal files, and skips a line a crash cut short', async () => {
    const dir = await tempDir();
    await fs.writeFile(
      path.join(dir, 'journal.jsonl'),
      `${line({ time: at(1), step: 'a', panel: 'p', event: 'started' })}{"time":"2026-01-01T10:00:02.000Z","step":"a","ev`,
    );
    for (const other of ['claims.json', 'xjournal.jsonl', 'journal.jsonl.bak', 'journal.json']) {
      await fs.writeFile(path.join(dir, other), line({ time: at(7), step: other, panel: 'p', event: 'done' }));
    }
    const steps = await readJournal(dir);
    expect([...steps.keys()]).toEqual(['a']);
    expect(steps.get('a')?.last.event).toBe('started');
  });
});

describe('writing a plan journal', () => {
  it('creates a private directory and a 0600 file, and stamps each line with the time', async () => {
    const dir = path.join(await tempDir(), 'bulk', 'plan');
    const file = journalFile(dir);
    const journal = await Journal.open(file);
    const before = new Date().toISOString();
    await journal.append({ step: 'a', panel: 'p', event: 'started', slot: 5 });
    await journal.close();
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    const [entry] = (await fs.readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JournalEntry);
    expect(entry).toMatchObject({ step: 'a', panel: 'p', event: 'started', slot: 5 });
    expect(entry.time >= before).toBe(true);
    expect(Object.keys(entry)[0]).toBe('time');
  });

  it('writes every line of many appends made at once, each whole, and appends to what is there', async () => {
    const dir = await tempDir();
    const file = journalFile(dir);
    await fs.writeFile(file, line({ time: at(0), step: 'old', panel: 'p', event: 'done' }), { mode: 0o600 });
    const journal = await Journal.open(file);
    await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append({ step: `s${i}`, panel: 'p', event: 'done' })));
    // Appends left pending when close() is called are written before the file is closed.
    const late = [journal.append({ step: 'late1', panel: 'p', event: 'started' }), journal.append({ step: 'late2', panel: 'p', event: 'started' })];
    await journal.close();
    await Promise.all(late);
    const lines = (await fs.readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JournalEntry);
    expect(lines.map((l) => l.step)).toEqual(['old', ...Array.from({ length: 50 }, (_, i) => `s${i}`), 'late1', 'late2']);
    const steps = await readJournal(dir);
    expect(steps.size).toBe(53);
  });

  it('an append that cannot be written is rejected, not lost silently, and the next one is tried again', async () => {
    const dir = await tempDir();
    const journal = await Journal.open(journalFile(dir));
    await journal.close();
    await expect(journal.append({ step: 'a', panel: 'p', event: 'done' })).rejects.toMatchObject({ code: 'EBADF' });
    await expect(journal.append({ step: 'b', panel: 'p', event: 'done' })).rejects.toMatchObject({ code: 'EBADF' });
  });
});
