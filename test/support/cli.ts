import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/panelctl.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The secrets among `secrets` that appear in `text`, each shown as its first two characters and
 * stars. Hashes, MACs, lock tokens and ids are long runs of hex digits: any 4-digit code turns up in
 * one by chance (about 1 in 65,536 per position, so often in an audit log), which is not a leak.
 * Those runs (16 or more hex digits with at least one letter) are masked before the search, and so
 * are wall-clock times in milliseconds (a panel's contact record: 13 digits from 1 and a fraction, and
 * each rewrite leaves older ones in its slot files); a code written as digits among words, JSON or
 * CSV, or inside a longer run of digits, is still found.
 */
export function secretsIn(text: string, secrets: Iterable<string>): string[] {
  const searched = text
    .replace(/[0-9a-f]{16,}/gi, (run) => (/[a-f]/i.test(run) ? '#'.repeat(run.length) : run))
    .replace(/(?<![\d.])1\d{12}(?:\.\d+)?(?![\d.])/g, (time) => '#'.repeat(time.length));
  return [...secrets].filter((secret) => searched.includes(secret)).map((secret) => `${secret.slice(0, 2)}${'*'.repeat(secret.length - 2)}`);
}

/** A private world for one test: its own state dir, demo dir and inventory. */
export interface Sandbox {
  dir: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  writeInventory(yaml: string): Promise<string>;
  run(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>;
  /** Every file the tool wrote under the sandbox, as text, for secrecy scans. */
  allWrittenText(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function makeSandbox(): Promise<Sandbox> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-e2e-'));
  const stateDir = path.join(dir, 'state');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    PANELCTL_STATE_DIR: stateDir,
    PANELCTL_DEMO_DIR: path.join(dir, 'demo'),
    PANELCTL_INVENTORY: path.join(dir, 'inventory.yaml'),
    PANELCTL_OPERATOR: 'e2e-tester',
    NO_COLOR: '1',
  };
  await fs.writeFile(env.PANELCTL_INVENTORY as string, 'panels: {}\n');
  const sandbox: Sandbox = {
    dir,
    stateDir,
    env,
    async writeInventory(yaml) {
      await fs.writeFile(env.PANELCTL_INVENTORY as string, yaml);
      return env.PANELCTL_INVENTORY as string;
    },
    run(args, options = {}) {
      return runCli(args, { ...env, ...options.env }, options.input, options.timeoutMs);
    },
    async allWrittenText() {
      const chunks: string[] = [];
      async function walk(p: string) {
        for (const entry of await fs.readdir(p, { withFileTypes: true }).catch(() => [])) {
          const full = path.join(p, entry.name);
          if (entry.isDirectory()) await walk(full);
          else chunks.push(await fs.readFile(full, 'latin1'));
        }
      }
      await walk(stateDir);
      return chunks.join('\n');
    },
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
  return sandbox;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 25_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`panelctl ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command may exit without reading its input (a refusal before the prompt, --version): writing it then fails
    // with EPIPE, which says nothing about the command. Its exit code and output do.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin.end(input ?? '');
  });
}

/** The binary as a running process, for tests that signal it mid-command. */
export interface RunningCli {
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Its exit code once it has exited and closed its output. */
  exited: Promise<number | null>;
}

/** Starts `panelctl ARGS` with `input` on its stdin (an EPIPE, if it exits before reading, is ignored as in runCli). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, input: string): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  child.stdin.end(input);
  return { child, stderr: () => stderr, exited };
}

/** Polls until `condition` holds; on timeout, fails with what `show` returns (the output so far). */
export async function waitFor(condition: () => boolean, show: () => string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out; output so far:\n${show()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
