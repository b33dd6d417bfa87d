import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Whether socat is installed (.ci/run installs it; a machine without it skips the serial tests). */
/**
 * Under mutation testing (vitest.mutation.config.mjs sets PANELCTL_NO_SERIAL) serial tests are left
 * out: serialport's native poller aborts the process inside Stryker's test workers, and the framing
 * they exercise is mutated through the codec tests.
 */
export const haveSocat = !process.env.PANELCTL_NO_SERIAL && spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

export interface PtyPair {
  a: string;
  b: string;
  /** Kills socat: both device nodes vanish, as when a USB adapter is unplugged. */
  close(): Promise<void>;
  process: ChildProcess;
}

/**
 * Two connected pseudo-terminals, like the two ends of a null-modem cable. With `farEndEchoes`,
 * side b is a tty in echo mode that nobody reads: every byte written to a comes straight back,
 * as on a serial loopback plug.
 */
export async function makePtyPair(options: { farEndEchoes?: boolean } = {}): Promise<PtyPair> {
  const farEnd = options.farEndEchoes ? 'pty,raw,echo=1,ctlecho=0' : 'pty,raw,echo=0';
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', farEnd], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const paths = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not report its ptys: ${stderr}`)), 5000);
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const found = [...stderr.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1]);
      if (found.length === 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', () => reject(new Error(`socat exited: ${stderr}`)));
  });
  return {
    a: paths[0],
    b: paths[1],
    process: child,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
