import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GeneratedCodes } from '../../src/bulk/codes.js';
import { neutraliseCell, restoreCell } from '../../src/bulk/csv-cells.js';
import { Secret } from '../../src/core/secret.js';
import { readCodesCsv } from '../support/codes-csv.js';

/** The codes file as one object for users (appended across runs) and bulk (one run, resumable). */

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-codes-'));
  file = path.join(dir, 'codes.csv');
});
afterEach(() => fs.rm(dir, { recursive: true, force: true }));

const code = (v: string) => new Secret(v, 'generated code');

describe('codes files', () => {
  it('keeps earlier runs, marks a replaced code superseded, and drops a code that provably did not land', async () => {
    const first = await GeneratedCodes.open(file, 'append');
    const a = await first.record('oslo', 3, 'Anna', code('583920'));
    first.settle(a, 'applied');
    await first.finish();

    const second = await GeneratedCodes.open(file, 'append');
    const b = await second.record('oslo', 3, '', code('694031'));
    const lost = await second.record('oslo', 4, 'Bo', code('705142'));
    // Before finishing, both are already in the file (saved before sending), as pending.
    expect((await readCodesCsv(file)).map((r) => r[4])).toEqual(['applied', 'pending', 'pending']);
    second.settle(b, 'applied', { name: 'Anna' });
    second.forget(lost);
    await second.finish();
    expect(await readCodesCsv(file)).toEqual([
      ['oslo', '3', 'Anna', '583920', 'superseded'],
      ['oslo', '3', 'Anna', '694031', 'applied'],
    ]);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('reads the older users format (no header, no status) as applied lines', async () => {
    await fs.writeFile(file, 'oslo,7,Old,112358\n', { mode: 0o600 });
    const book = await GeneratedCodes.open(file, 'append');
    await book.finish();
    expect(await readCodesCsv(file)).toEqual([['oslo', '7', 'Old', '112358', 'applied']]);
  });

  it('refuses to rewrite a file it did not write, and leaves it as it was', async () => {
    const notes = 'my notes, with commas\nand more lines than, fields, a codes, file, has, here\n';
    await fs.writeFile(file, notes, { mode: 0o600 });
    await expect(GeneratedCodes.open(file, 'append')).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/not a panelctl codes file/) });
    expect(await fs.readFile(file, 'utf8')).toBe(notes);
  });

  it('gives a resumed bulk run the code it drew before, and a fresh run refuses a file with codes', async () => {
    const run = await GeneratedCodes.open(file, 'refuse');
    await run.pending('site-1', 30, 'Branch Manager', code('830291'));
    await run.close();
    await expect(GeneratedCodes.open(file, 'refuse')).rejects.toMatchObject({ code: 'E_EXISTS' });
    const resumed = await GeneratedCodes.open(file, 'resume');
    expect(resumed.earlier('site-1', 30)?.reveal()).toBe('830291');
    await resumed.pending('site-1', 30, 'Branch Manager', code('830291'));
    resumed.mark('site-1', 30, 'applied');
    expect(await resumed.finish()).toEqual({ applied: 1, unconfirmed: 0 });
    expect(await readCodesCsv(file)).toEqual([['site-1', '30', 'Branch Manager', '830291', 'applied']]);
  });

  it('neutralises formula starts and restores them exactly', () => {
    for (const name of ['=1+1', '+1', '-2+3', '@SUM(A1)', '\tx', '\rx', "'=x", "'", 'plain', "O'Brien", '']) {
      const cell = neutraliseCell(name);
      expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      expect(restoreCell(cell)).toBe(name);
    }
  });
});
