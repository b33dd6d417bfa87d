import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createSimulator } from '../../../drivers/modbus/simulator.js';
import { serveTcp, type TcpServerHandle } from '../../../src/transport/tcp.js';
import { BIN, makeSandbox, type CliResult, type Sandbox } from '../../support/cli.js';
import { readCodesCsv } from '../../support/codes-csv.js';

/**
 * Real Modbus simulators (drivers/modbus, the demo-modbus profile) on loopback TCP, with an
 * inventory naming them, for bulk tests through the binary. A Modbus device serves several
 * clients at once, which is what makes two writers on one panel possible without a lock.
 */

export type ModbusSim = Awaited<ReturnType<typeof createSimulator>> & {
  stats: { writes: number; writeLog: Array<{ fc: number; address: number; count: number }> };
  user(slot: number): { name?: string; code?: string } | undefined;
  setFaults(f: { latencyMs?: number }): void;
};

export interface ModbusFleet {
  sandbox: Sandbox;
  sims: Map<string, ModbusSim>;
  close(): Promise<void>;
}

export async function modbusFleet(count: number, options: { users?: number; latencyMs?: number; prefix?: string } = {}): Promise<ModbusFleet> {
  const sandbox = await makeSandbox();
  const sims = new Map<string, ModbusSim>();
  const servers: TcpServerHandle[] = [];
  const lines = ['panels:'];
  for (let i = 0; i < count; i++) {
    const name = `${options.prefix ?? 'mb'}-${i}`;
    const sim = (await createSimulator({
      users: options.users ?? 5,
      statePath: path.join(sandbox.dir, `${name}.sim.json`),
      options: { profile: 'demo-modbus', latencyMs: options.latencyMs ?? 0 },
    })) as ModbusSim;
    const server = await serveTcp('127.0.0.1', 0, (stream) => sim.accept(stream));
    sims.set(name, sim);
    servers.push(server);
    lines.push(`  ${name}: { driver: modbus, link: "tcp://127.0.0.1:${server.port}", options: { profile: demo-modbus, unit: 1 } }`);
  }
  await sandbox.writeInventory(`${lines.join('\n')}\n`);
  return {
    sandbox,
    sims,
    async close() {
      for (const s of servers) await s.close();
      for (const s of sims.values()) await s.close();
      await sandbox.cleanup();
    },
  };
}

/**
 * Writes that took effect on one slot's registers (demo-modbus: slot 1 at 1000, 16 each). The
 * profile stages user changes until 1 is written to its commit register (100), so a write to the
 * slot that no commit followed before the slot was written again never took effect: a kill -9
 * between the two leaves the old code in force, the resume proves the new one absent and writes
 * it once. Counting that staged write would make the count depend on where the kill fell.
 */
export function writesToSlot(sim: ModbusSim, slot: number): number {
  const from = 1000 + (slot - 1) * 16;
  const log = sim.stats.writeLog;
  const isSlot = (w: { address: number }) => w.address >= from && w.address < from + 16;
  return log.filter((w, i) => isSlot(w) && log.slice(i + 1).find((later) => later.address === 100 || isSlot(later))?.address === 100).length;
}

export interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
  output(): string;
}

/** The binary in the background, so a test can signal it or start another beside it. */
export function startCli(sandbox: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...sandbox.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : null), stdout, stderr }));
  });
  return { child, done, output: () => `stdout:\n${stdout}\nstderr:\n${stderr}` };
}

/** Every journal line of a plan (all shards' files). */
export async function journalLines(stateDir: string, planId: string): Promise<Array<Record<string, any>>> {
  const dir = path.join(stateDir, 'bulk', planId);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const lines: Array<Record<string, any>> = [];
  for (const name of names.filter((n) => n.startsWith('journal') && n.endsWith('.jsonl'))) {
    for (const line of (await fs.readFile(path.join(dir, name), 'utf8')).split('\n')) {
      if (line.trim()) lines.push(JSON.parse(line));
    }
  }
  return lines;
}

/** The lines of a --codes-out file: panel#slot -> { code, status }. */
export async function codesOut(file: string): Promise<Map<string, { code: string; status: string }>> {
  // Codes files are quoted CSV: read them with a CSV parser.
  return new Map((await readCodesCsv(file)).map(([panel, slot, , code, status]) => [`${panel}#${slot}`, { code, status }]));
}

/** Polls (no timed assertion: it fails only after a generous limit, with the output so far). */
export async function until(condition: () => Promise<boolean>, show: () => string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`gave up waiting; ${show()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
