// How much panelctl costs before it does any work, against a bare `node -e 0` measured side by
// side (interleaved runs, medians): --version, --help, and `users list --panel demo -o json`,
// whose time includes starting the in-process simulator, without an inventory and with one.
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

const cases = [
  { name: '--version', args: ['--version'] },
  { name: '--help', args: ['--help'] },
  { name: 'users list --panel demo -o json (no inventory)', args: ['users', 'list', '--panel', 'demo', '-o', 'json'] },
  {
    name: 'users list --panel demo -o json (50-panel inventory)',
    args: ['users', 'list', '--panel', 'demo', '-o', 'json'],
    env: { PANELCTL_INVENTORY: inventory },
  },
];
const builds = [{ label: 'this build', bin }, ...(against ? [{ label: 'against', bin: against }] : [])];

try {
  console.log(`startup: wall time (${runs} interleaved rounds: median, and the median of each round's ratio to node -e 0)`);
  console.log(
    `and CPU time (user + system per run, averaged over ${runs} runs, and its ratio); ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`,
  );
  for (const { label, env } of environments) {
    const commands = [{ argv: [node, '-e', '0'], options: { env } }];
    for (const c of cases) for (const b of builds) commands.push({ argv: [node, b.bin, ...c.args], options: { env: { ...env, ...c.env } } });
    const [bare, ...samples] = interleaveSamples(commands, runs);
    const [bareCpu, ...cpu] = commands.map((c) => cpuPerRun(c.argv, c.options.env, runs));
    console.log(`${label}:`);
    console.log(`  ${'node -e 0'.padEnd(62)} ${fmt(median(bare)).padStart(9)}           CPU ${fmt(bareCpu).padStart(8)}`);
    cases.forEach((c, i) => {
      const cells = builds.map((b, k) => {
        const s = samples[i * builds.length + k];
        const t = cpu[i * builds.length + k];
        return `${fmt(median(s)).padStart(9)} ${pairedRatio(s, bare).toFixed(2)}x   CPU ${fmt(t).padStart(8)} ${(t / bareCpu).toFixed(2)}x${builds.length > 1 ? ` (${b.label})` : ''}`;
      });
      console.log(`  ${`panelctl ${c.name}`.padEnd(62)} ${cells.join('   ')}`);
    });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
