import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseProfile, shippedProfilesDir, type LoadedProfile } from '../../../drivers/modbus/profile.js';

/** mbpoll, from Debian: an independent Modbus client (`.ci/run` installs it; tests skip without it). */
export const haveMbpoll = spawnSync('mbpoll', ['-V'], { stdio: 'ignore' }).status === 0;

export interface MbpollResult {
  code: number | null;
  output: string;
  /** Register (or coil) number -> value, from lines like "[1000]: 	7". */
  values: Map<number, number>;
}

/** Runs mbpoll once (-1) with PDU addressing (-0), without blocking this process's event loop. */
export function mbpoll(args: string[], timeoutMs = 10_000): Promise<MbpollResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('mbpoll', ['-1', '-0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mbpoll ${args.join(' ')} hung:\n${output}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const values = new Map<number, number>();
      for (const m of output.matchAll(/^\[(\d+)\]:\s+(-?(?:0x[0-9A-Fa-f]+|\d+))/gm)) values.set(Number(m[1]), Number(m[2]));
      resolve({ code, output, values });
    });
  });
}

/** The shipped demo profile as plain data, to derive variants from. */
export async function demoProfileData(): Promise<Record<string, any>> {
  return parseYaml(await fs.readFile(path.join(shippedProfilesDir(), 'demo-modbus.yaml'), 'utf8'));
}

/** A variant of the demo profile written to a temporary file (so both driver and simulator load it by path). */
export async function profileVariant(name: string, change: (p: Record<string, any>) => void): Promise<{ file: string; loaded: LoadedProfile }> {
  const data = await demoProfileData();
  change(data);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'modbus-profile-'));
  const file = path.join(dir, `${name}.json`);
  await fs.writeFile(file, JSON.stringify(data));
  return { file, loaded: parseProfile(JSON.stringify(data), name, file) };
}

export function words(text: string): number[] {
  const bytes = Buffer.alloc(Math.ceil(text.length / 2) * 2);
  bytes.write(text, 'latin1');
  return Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readUInt16BE(i * 2));
}
