// Small helpers shared by the bench scripts: side-by-side timing of whole commands.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export function timeCommand(argv, options = {}) {
  const start = performance.now();
  const result = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], ...options });
  if (result.status !== 0 && !options.allowFailure) throw new Error(`${argv.join(' ')} exited ${result.status}`);
  return performance.now() - start;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs the commands in turn (A B C A B C ...), so drift on a shared machine hits them alike,
 * and returns each one's median wall time in ms.
 */
export function interleave(commands, runs = 15, warmup = 2) {
  return interleaveSamples(commands, runs, warmup).map(median);
}

/** As interleave, but every run's time: samples[k][i] is command k in round i. */
export function interleaveSamples(commands, runs = 15, warmup = 2) {
  const times = commands.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach((command, k) => {
      // A command is an argv array, or { argv, options } when it needs its own environment.
      const t = Array.isArray(command) ? timeCommand(command) : timeCommand(command.argv, command.options);
      if (i >= warmup) times[k].push(t);
    });
  }
  return times;
}

/**
 * The median of the per-round ratios of a command to the anchor run in the same round: on a
 * shared machine, load that comes and goes hits both sides of one round alike.
 */
export function pairedRatio(samples, anchor) {
  return median(samples.map((t, i) => t / anchor[i]));
}

export function fmt(ms) {
  return `${ms.toFixed(1)} ms`;
}

/**
 * CPU time (user + system, ms) one run of a command takes, averaged over `runs` runs: measured
 * with bash's `times` (children's CPU time). Less sensitive than wall time to a machine that
 * others are using, since time spent waiting for a CPU is not counted.
 */
export function cpuPerRun(argv, env, runs = 15) {
  const script = 'for ((i = 0; i < RUNS; i++)); do "$@" >/dev/null 2>&1 </dev/null; done; times';
  const result = spawnSync('bash', ['-c', script, 'bash', ...argv], { env: { ...env, RUNS: String(runs) }, encoding: 'utf8' });
  const children = result.stdout.trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (seconds.length !== 2) throw new Error(`could not read CPU times from bash: ${result.stdout} ${result.stderr}`);
  return ((seconds[0] + seconds[1]) * 1000) / runs;
}
