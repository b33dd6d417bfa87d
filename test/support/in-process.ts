import { PassThrough, Writable } from 'node:stream';
import type { DriverRegistry, PanelDriver, SimulatorModule } from '../../src/core/contract.js';
import { run } from '../../src/cli/main.js';
import { drivers as shipped } from '../../drivers/index.js';
import type { CliResult } from './cli.js';

/** The shipped registry plus test drivers (a simulator is optional: only demo panels need one). */
export function registryWith(extra: Record<string, { driver: PanelDriver; simulator?: SimulatorModule }>, base: DriverRegistry = shipped): DriverRegistry {
  return {
    names: [...base.names, ...Object.keys(extra)],
    load: async (name) => (Object.hasOwn(extra, name) ? extra[name].driver : base.load(name)),
    loadSimulator: async (name) => {
      const simulator = Object.hasOwn(extra, name) ? extra[name].simulator : undefined;
      return simulator ?? base.loadSimulator(name);
    },
  };
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * Runs the CLI in this process (src/cli/main.ts `run`) with the given registry, environment and
 * standard input: what the binary does, minus the process, so a test driver can take part.
 */
export async function runInProcess(args: string[], options: { drivers: DriverRegistry; env: NodeJS.ProcessEnv; input?: string }): Promise<CliResult> {
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const stdout = collector();
  const stderr = collector();
  const saved = { ...process.env };
  Object.assign(process.env, options.env);
  try {
    const code = await run(['node', 'panelctl', ...args], {
      drivers: async () => options.drivers,
      // Output writes lines and reads isTTY (absent: not a terminal), which a plain Writable serves.
      io: { stdin, stdout: stdout.stream as unknown as NodeJS.WriteStream, stderr: stderr.stream as unknown as NodeJS.WriteStream },
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
