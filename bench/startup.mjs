// How much panelctl costs before it does any work, against a bare `node -e 0` measured side by
// side (interleaved runs, medians): --version, --help, and `users list --panel demo -o json`,
// whose time includes starting the in-process simulator, without an inventory and with one, and
// `info --panel demo -o json` (which loads the driver's option schema, and so zod, to show its options).
//
//   npm run build && node bench/startup.mjs [--against OTHER/bin/panelctl.js]
//
// --against runs a second build (say, a checkout of an older commit) in the same interleaving,
// so a before/after comparison is made in one run on one machine state. RUNS sets the count.
//
// Each figure is taken twice, the anchor always in the same environment as the command: with
// the environment this script inherited (as a user's shell would pass it) and with a clean one.
// They differ where the environment makes every Node process slower: NODE_EXTRA_CA_CERTS, for
// one, has Node parse that certificate bundle at start-up (about 30 ms for Debian's), which
// raises the anchor and the command alike and so lowers the ratios.
//
// The in-process simulator is measured apart (issue 20): the same `users list` against the same
// simulator served by another process (`panelctl sim integra`, whose CPU is not counted), and a
// bare Node process that opens a loopback socket pair and makes one round trip. The demo's extra
// cost over the first is the simulator's; the second is what a socket pair alone costs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPerRun, fmt, interleaveSamples, median, pairedRatio } from './lib.mjs';

const bin = fileURLToPath(new URL('../bin/panelctl.js', import.meta.url));
const against = process.argv.includes('--against') ? path.resolve(process.argv[process.argv.indexOf('--against') + 1]) : undefined;
const node = process.execPath;
const runs = Number(process.env.RUNS ?? 15);

// A private world: no inventory of the user's, demo state and audit in a temp dir.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-startup-'));
const sandbox = { HOME: dir, PANELCTL_STATE_DIR: path.join(dir, 'state'), PANELCTL_DEMO_DIR: path.join(dir, 'demo'), NO_COLOR: '1' };
const inherited = { ...process.env, ...sandbox };
delete inherited.PANELCTL_INVENTORY;
const environments = [
  { label: 'inherited environment', env: inherited },
  { label: 'clean environment (PATH and the above only)', env: { PATH: process.env.PATH, ...sandbox } },
];
const inventory = path.join(dir, 'inventory.yaml');
const panels = Array.from({ length: 50 }, (_, i) => `  site-${i}: { driver: integra, link: "tcp://10.0.${i >> 8}.${i & 255}:7094", secret: env:PANEL_CODE }`);
fs.writeFileSync(inventory, `panels:\n${panels.join('\n')}\n`);

/** A loopback socket pair and one round trip, in a bare Node process: the floor for a panel served in process. */
const socketPair = `const net = require('node:net');
const server = net.createServer((s) => s.on('data', (d) => s.end(d)));
server.listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => c.end('ping'));
  c.on('data', () => server.close());
});`;

const simulator = await serveSimulator();
const cases = [
  { name: '--version', args: ['--version'] },
  { name: '--help', args: ['--help'] },
  { name: 'users list --panel demo -o json (no inventory)', args: ['users', 'list', '--panel', 'demo', '-o', 'json'] },
  { name: 'info --panel demo -o json (no inventory)', args: ['info', '--panel', 'demo', '-o', 'json'] },
  {
    name: 'users list --panel demo -o json (50-panel inventory)',
    args: ['users', 'list', '--panel', 'demo', '-o', 'json'],
    env: { PANELCTL_INVENTORY: inventory },
  },
  {
    name: 'users list --link (simulator in another process)',
    args: ['users', 'list', '--link', simulator.link, '--driver', 'integra', '--secret-from', 'env:PANEL_CODE', '-o', 'json'],
    env: { PANEL_CODE: simulator.code },
  },
];
const builds = [{ label: 'this build', bin }, ...(against ? [{ label: 'against', bin: against }] : [])];

try {
  console.log(`startup: wall time (${runs} interleaved rounds: median, and the median of each round's ratio to node -e 0)`);
  console.log(
    `and CPU time (user + system per run, averaged over ${runs} runs, and its ratio); ${os.cpus().length} CPUs, load average ${loadAverage()} at the start`,
  );
  for (const { label, env } of environments) {
    const commands = [
      { argv: [node, '-e', '0'], options: { env } },
      { argv: [node, '-e', socketPair], options: { env } },
    ];
    for (const c of cases) for (const b of builds) commands.push({ argv: [node, b.bin, ...c.args], options: { env: { ...env, ...c.env } } });
    const [bare, pair, ...samples] = interleaveSamples(commands, runs);
    const [bareCpu, pairCpu, ...cpu] = commands.map((c) => cpuPerRun(c.argv, c.options.env, runs));
    const cell = (s, t) => `${fmt(median(s)).padStart(9)} ${pairedRatio(s, bare).toFixed(2)}x   CPU ${fmt(t).padStart(8)} ${(t / bareCpu).toFixed(2)}x`;
    console.log(`${label}:`);
    console.log(`  ${'node -e 0'.padEnd(62)} ${fmt(median(bare)).padStart(9)}           CPU ${fmt(bareCpu).padStart(8)}`);
    console.log(`  ${'node -e <loopback socket pair, one round trip>'.padEnd(62)} ${cell(pair, pairCpu)}`);
    cases.forEach((c, i) => {
      const cells = builds.map((b, k) => `${cell(samples[i * builds.length + k], cpu[i * builds.length + k])}${builds.length > 1 ? ` (${b.label})` : ''}`);
      console.log(`  ${`panelctl ${c.name}`.padEnd(62)} ${cells.join('   ')}`);
    });
    const demo = cases.findIndex((c) => c.name.includes('no inventory'));
    const link = cases.findIndex((c) => c.name.includes('another process'));
    for (const [k, b] of builds.entries()) {
      const extra = cpu[demo * builds.length + k] - cpu[link * builds.length + k];
      console.log(
        `  in-process simulator (demo minus --link), CPU: ${fmt(extra)}; a socket pair over node -e 0: ${fmt(pairCpu - bareCpu)}${builds.length > 1 ? ` (${b.label})` : ''}`,
      );
    }
  }
  console.log(`load average ${loadAverage()} at the end`);
} finally {
  await simulator.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

function loadAverage() {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

/** The demo's simulator (INTEGRA, 12 users) served by a panelctl process of its own, for the --link case. */
async function serveSimulator() {
  const args = [bin, 'sim', 'integra', '--listen', '127.0.0.1:0', '--users', '12', '--state', path.join(dir, 'sim.json'), '--show-credentials'];
  const child = spawn(node, args, { env: { PATH: process.env.PATH, ...sandbox }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const ready = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const link = /listening on (tcp:\/\/\S+)/.exec(stderr)?.[1];
      const code = /credentials: (\{.*\})/.exec(stderr)?.[1];
      if (link && code) resolve({ link, code: JSON.parse(code).code });
    });
    child.on('exit', (status) => reject(new Error(`panelctl sim exited ${status}: ${stderr}`)));
  });
  const { link, code } = await ready;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    link,
    code,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
