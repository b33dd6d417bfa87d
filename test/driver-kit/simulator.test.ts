import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memoryPair } from '../../src/transport/memory.js';
import type { ByteStream } from '../../src/transport/types.js';
import { FaultKnobs, OneClient, loadState, saveState } from '../../src/driver-kit/index.js';

/** The simulator core's parts on their own. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('simulator state file', () => {
  it('saves atomically with mode 0600 and loads it back; a file another device wrote is not loaded', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-state-'));
    dirs.push(dir);
    const file = path.join(dir, 'sub', 'state.json');
    saveState(file, { format: 'a', n: 1 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(loadState(file, () => ({ fresh: true }))).toEqual({ format: 'a', n: 1 });
    expect(
      loadState(
        file,
        () => ({ fresh: true }),
        (s) => (s as { format: string }).format === 'b',
      ),
    ).toEqual({ fresh: true });
    expect(loadState(undefined, () => 'fresh')).toBe('fresh');
  });

  it('is not rewritten when what it would hold is what it holds (a demo `users list` loads and saves an unchanged state)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-state-'));
    dirs.push(dir);
    const file = path.join(dir, 'state.json');
    // A save writes a new file: its time is now, not the year 2001 the file is set back to here.
    const setBack = () => fs.utimesSync(file, 1e9, 1e9);
    const untouched = () => fs.statSync(file).mtimeMs === 1e12;
    saveState(file, { n: 1 });
    setBack();
    const state = loadState(file, () => ({ n: 0 }));
    saveState(file, state);
    saveState(file, { n: 1 });
    expect(untouched()).toBe(true);
    saveState(file, { n: 2 });
    expect(untouched()).toBe(false);
    expect(loadState(file, () => ({ n: 0 }))).toEqual({ n: 2 });
    // A file changed by someone else since is written again, even with the state saved last.
    fs.writeFileSync(file, JSON.stringify({ n: 3 }), { mode: 0o600 });
    setBack();
    saveState(file, { n: 2 });
    expect(untouched()).toBe(false);
    expect(loadState(file, () => ({ n: 0 }))).toEqual({ n: 2 });
  });
});

describe('fault knobs', () => {
  it('count lost and spoiled answers down, and reset the line on the Nth frame once', () => {
    const knobs = new FaultKnobs({ dropReplies: 1, corruptReplies: 2, resetAfterFrames: 3 });
    expect([knobs.dropThisReply(), knobs.dropThisReply()]).toEqual([true, false]);
    expect([knobs.corruptThisReply(), knobs.corruptThisReply(), knobs.corruptThisReply()]).toEqual([true, true, false]);
    expect([1, 2, 3, 4, 5, 6].map(() => knobs.resetOnThisFrame())).toEqual([false, false, true, false, false, false]);
  });
});

describe('one client at a time', () => {
  function line(graceMs = 50) {
    const served: ByteStream[] = [];
    const busy: ByteStream[] = [];
    return { served, busy, one: new OneClient({ serve: (s) => served.push(s), busy: (s) => busy.push(s), graceMs }) };
  }

  it('a newcomer is turned away after the grace while the client stays', async () => {
    const { one, served, busy } = line();
    const [first] = memoryPair('first');
    const [second] = memoryPair('second');
    one.offer(first);
    one.offer(second);
    await expect.poll(() => busy.length).toBe(1);
    expect(served).toEqual([first]);
    expect(busy).toEqual([second]);
  });

  it('a newcomer is served as soon as the held client goes, first come first served', async () => {
    const { one, served, busy } = line(60_000);
    const [first] = memoryPair('first');
    const [second] = memoryPair('second');
    const [third] = memoryPair('third');
    one.offer(first);
    one.offer(second);
    one.offer(third);
    await first.close();
    await expect.poll(() => served.length).toBe(2);
    expect(served[1]).toBe(second);
    await second.close();
    await expect.poll(() => served.length).toBe(3);
    expect(served[2]).toBe(third);
    expect(busy).toEqual([]);
    await third.close();
  });
});
