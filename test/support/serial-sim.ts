import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

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
