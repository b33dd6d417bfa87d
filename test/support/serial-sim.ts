import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { BIN, type CliResult, makeSandbox, type Sandbox } from './cli.js';
import { makePtyPair, type PtyPair } from './pty-pair.js';

export interface SerialSim {
  /** Stops the simulator and waits for it: it saves its state as it exits. */
  stop(): Promise<void>;
}

/**
 * `panelctl sim DRIVER --serial DEVICE ...args` as a child process, as a technician would run it,
 * resolved once it says it is serving.
 */
export async function startSerialSim(driver: string, device: string, args: string[], env: NodeJS.ProcessEnv): Promise<SerialSim> {
  const child = spawn(process.execPath, [BIN, 'sim', driver, '--serial', device, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      if (/serving serial/.test(err)) resolve();
    });
    child.once('exit', () => reject(new Error(`simulator exited: ${err}`)));
  });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A simulated panel on a serial line for one test file: see serialPanel. */
export interface SerialPanel {
  readonly sandbox: Sandbox;
  /** The simulator holds `pty.a`; panelctl opens `pty.b`. */
  readonly pty: PtyPair;
  /** What the simulator saved of its panel (users, codes, test mode). */
  state(): Promise<any>;
  /** The real binary in the sandbox, with the panel's secret in its environment. */
  run(args: string[], input?: string): Promise<CliResult>;
}

/**
 * On site over a serial line: `panelctl sim DRIVER --serial` on one end of a pseudo-terminal pair (saving its panel
 * to `stateFile` in a sandbox) and an inventory naming the other end, made before the file's tests and removed
 * after them. Call it inside a describe.
 */
export function serialPanel(
  driver: string,
  setup: { stateFile: string; simArgs: string[]; inventory: (device: string) => string; env: NodeJS.ProcessEnv },
): SerialPanel {
  let sim: SerialSim | undefined;
  let statePath = '';
  const panel = {
    sandbox: undefined as unknown as Sandbox,
    pty: undefined as unknown as PtyPair,
    state: async () => JSON.parse(await fs.readFile(statePath, 'utf8')),
    run: (args: string[], input?: string) => panel.sandbox.run(args, { input, env: setup.env }),
  };
  beforeAll(async () => {
    panel.sandbox = await makeSandbox();
    panel.pty = await makePtyPair();
    statePath = path.join(panel.sandbox.dir, setup.stateFile);
    sim = await startSerialSim(driver, panel.pty.a, ['--state', statePath, ...setup.simArgs], panel.sandbox.env);
    await panel.sandbox.writeInventory(setup.inventory(panel.pty.b));
  });
  afterAll(async () => {
    await sim?.stop();
    await panel.pty?.close();
    await panel.sandbox?.cleanup();
  });
  return panel;
}
