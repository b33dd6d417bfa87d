import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './support/build.js';

/**
 * The crash-consistency run (bench/crash-consistency.mjs) in small: randomised kill -9 points in
 * sharded and unsharded applies of one plan and in two plans on the same slots, through the
 * binary against INTEGRA, Modbus and DSC simulators whose state files are read afterwards.
 * The full run (200+ kill points) is `node bench/crash-consistency.mjs`.
 */

const BENCH = fileURLToPath(new URL('../../bench/crash-consistency.mjs', import.meta.url));

beforeAll(ensureBuilt, 120_000);

function bench(seed: number, kills: number): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, '--kills', String(kills), '--seed', String(seed), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`no summary from the bench:\n${stdout}\n${stderr}`));
      }
    });
  });
}

describe('kill -9 at random points of bulk applies', () => {
  it('loses no write, repeats none, and leaves nothing unsettled that the panel could tell', async () => {
    const summary = await bench(20261130, 8);
    expect(summary.kills).toBeGreaterThanOrEqual(8);
    expect({ lost: summary.lost, repeated: summary.repeated, unsettled: summary.unsettled, failed: summary.failed, problems: summary.problems }).toEqual({
      lost: 0,
      repeated: 0,
      unsettled: 0,
      failed: 0,
      problems: [],
    });
  }, 600_000);
});
