// bulk apply at scale: N simulated panels, each answering after 20 ms, one code change each,
// applied 64 at a time. Prints wall time against the ideal (panels x round trips x latency /
// concurrency) and against an anchor measured in the same run (before and after the apply): a
// bare client that sends the same five requests to the same panels 64 at a time, with no journal,
// audit, locks or plan. The
// anchor shows what the machine allows; the ratio to it is the engine's own overhead. Also
// the applying process's peak RSS (and what it was before the apply started: inventory and plan
// read) and CPU time (per panel, and against the anchor's: less sensitive to a busy machine than
// wall time), and how both grow with N.
//
//   npm run build && node bench/bulk-apply.mjs [100 1000 10000]
//   BENCH_CPU_PROF=DIR node bench/bulk-apply.mjs 1000   # also writes a CPU profile of the apply to DIR
//
// Three processes, so that each one's cost is its own: this one writes the inventory and the
// plan; a panel process serves the fake panels (the bulk tests' panel model: real TCP on
// loopback, one client at a time); an apply process runs the real engine (dist/: per-panel
// work locks, journal fsyncs and audit log included) and reports its own time, CPU and peak RSS. On a machine
// with few cores the panels still compete with the apply for CPU: their CPU time is printed
// too, so a figure far from the ideal can be told apart from a machine that was simply busy.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const self = fileURLToPath(import.meta.url);

const LATENCY_MS = 20;
const CONCURRENCY = 64;
// login, read the user, change the code, verify the code, read the user back
const ROUND_TRIPS = 5;
const CREDENTIAL = '2580';

async function fakePanelKit() {
  const errors = await import(dist('core/errors.js'));
  const secret = await import(dist('core/secret.js'));
  const { connectTcp, serveTcp } = await import(dist('transport/tcp.js'));
  const { fakePanels } = await import(new URL('../test/bulk/support/fake-panel.mjs', import.meta.url).href);
  return fakePanels({ errors, transport: { connectTcp, serveTcp }, secret });
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

if (process.argv[2] === '--panels') {
  // The panel process: serves N panels, prints their ports, answers "stats" on stdin, exits at EOF.
  const fake = await fakePanelKit();
  const count = Number(process.argv[3]);
  const sims = [];
  const ports = [];
  for (let i = 0; i < count; i++) {
    const sim = fake.createPanel({ credential: CREDENTIAL, users: [{ slot: 2, name: 'Bob', code: '640211' }] });
    ports.push((await sim.listenTcp('127.0.0.1', 0)).port);
    sim.setFaults({ latencyMs: LATENCY_MS });
    sims.push(sim);
  }
  const cpuAtStart = cpuMs();
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'stats') process.stdout.write(`${JSON.stringify({ writes: sims.reduce((n, s) => n + s.stats.writes, 0), cpuMs: cpuMs() - cpuAtStart })}\n`);
  }
  await Promise.all(sims.map((s) => s.close()));
  process.exit(0);
}

if (process.argv[2] === '--apply') {
  // The applying process: reads the plan, applies it, reports its own time, CPU and peak RSS.
  const args = JSON.parse(process.argv[3]);
  const fake = await fakePanelKit();
  const { loadInventory } = await import(dist('inventory/load.js'));
  const { allTargets } = await import(dist('inventory/targets.js'));
  const { readPlan } = await import(dist('bulk/plan.js'));
  const { applyPlan } = await import(dist('bulk/apply.js'));
  const { CodeBook } = await import(dist('bulk/codes.js'));
  const { lockPanel } = await import(dist('operations/session.js'));
  const targets = allTargets(await loadInventory(args.inventory, true, '--inventory', (await import('../dist/drivers/index.js')).drivers.names));
  const plan = await readPlan(args.plan, args.state);
  // As openPanel does for a real driver: the panel's work lock is held from connecting to closing.
  const access = {
    describe: fake.access.describe,
    async open(target, ctx) {
      const lock = await lockPanel(target, ctx);
      try {
        const open = await fake.access.open(target, ctx);
        return { ...open, close: () => open.close().finally(() => lock.release()) };
      } catch (error) {
        await lock.release();
        throw error;
      }
    },
  };
  const codes = { book: await CodeBook.load(args.codes) };
  // What reading the inventory and checking the plan cost, apart from the apply itself.
  const setupMaxRssKb = process.resourceUsage().maxRSS;
  const cpuBefore = cpuMs();
  const start = performance.now();
  const report = await applyPlan(
    plan,
    new Map(targets.map((t) => [t.name, t])),
    { operator: 'bench', stateDir: args.state, timeoutMs: 5000, drivers: (await import('../dist/drivers/index.js')).drivers },
    {
      concurrency: CONCURRENCY,
      resume: false,
      retries: 3,
      backoffMs: 50,
      maxBackoffMs: 1000,
      codes,
      access,
    },
  );
  const ms = performance.now() - start;
  const done = report.outcomes.filter((o) => o.status === 'done').length;
  process.stdout.write(
    JSON.stringify({ ms, cpuMs: cpuMs() - cpuBefore, done, total: report.outcomes.length, maxRssKb: process.resourceUsage().maxRSS, setupMaxRssKb }),
  );
  process.exit(0);
}

if (process.argv[2] === '--anchor') {
  // The anchor: the same requests as one set-code step, without the engine around them.
  const args = JSON.parse(process.argv[3]);
  const fake = await fakePanelKit();
  const { loadInventory } = await import(dist('inventory/load.js'));
  const { allTargets } = await import(dist('inventory/targets.js'));
  const { Secret } = await import(dist('core/secret.js'));
  const { default: pLimit } = await import('p-limit');
  const targets = allTargets(await loadInventory(args.inventory, true, '--inventory', (await import('../dist/drivers/index.js')).drivers.names));
  const code = new Secret('583920', 'new code');
  const limit = pLimit(CONCURRENCY);
  const cpuBefore = cpuMs();
  const start = performance.now();
  await Promise.all(
    targets.map((target) =>
      limit(async () => {
        const { session, close } = await fake.access.open(target, { timeoutMs: 5000 });
        await session.reader.readUser(2);
        await session.writer.changeCode(2, code);
        await session.codeChecker.verifyCode(2, code);
        await session.reader.readUser(2);
        await close();
      }),
    ),
  );
  const ms = performance.now() - start;
  process.stdout.write(JSON.stringify({ ms, cpuMs: cpuMs() - cpuBefore, maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
}

/** Runs this script in a child process in the given role and returns what it printed, parsed. */
async function runRole(role, args) {
  const profile = role === '--apply' && process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...profile, self, role, JSON.stringify(args)], {
    env: { ...process.env, BENCH_CODE: CREDENTIAL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  return JSON.parse(out);
}

/** Starts the panel process and waits for its ports. */
async function startPanels(count) {
  const child = spawn(process.execPath, [self, '--panels', String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value);
  const { ports } = await next();
  return {
    ports,
    async stats() {
      child.stdin.write('stats\n');
      return next();
    },
    async stop() {
      child.stdin.end();
      await new Promise((resolve) => child.on('close', resolve));
    },
  };
}

async function benchOnce(count) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-bench-'));
  const panels = await startPanels(count);
  const links = panels.ports.map((port) => `tcp://127.0.0.1:${port}`);
  const inventory = path.join(dir, 'inventory.yaml');
  await fs.writeFile(inventory, `panels:\n${links.map((link, i) => `  b${i}: { driver: integra, link: "${link}", secret: env:BENCH_CODE }`).join('\n')}\n`);
  const codes = path.join(dir, 'codes.csv');
  await fs.writeFile(codes, 'new\n583920\n', { mode: 0o600 });
  // The plan, built directly (planning is not what is measured): one set-code per panel.
  const { writePlan } = await import(dist('bulk/plan.js'));
  const unsigned = {
    format: 'panelctl-bulk-plan/1',
    createdAt: new Date().toISOString(),
    source: { file: 'bench', rows: 1 },
    panels: links.map((link, i) => ({
      panel: `b${i}`,
      facts: { driver: 'integra', link, options: {} },
      steps: [{ id: `b${i}/1`, row: 1, action: 'set-code', slot: 2, name: 'Bob', code: { source: 'codes', column: 'new', row: 1 } }],
      noops: [],
      conflicts: [],
    })),
  };
  const plan = path.join(dir, 'plan.json');
  await writePlan(plan, unsigned, path.join(dir, 'state'));

  const args = { inventory, plan, codes, state: path.join(dir, 'state') };
  // The anchor runs before and after the apply and counts as their mean, so load that comes or goes
  // during the run weighs on both sides alike (it leaves each panel with the plan's code, which
  // the apply writes again).
  const anchorBefore = await runRole('--anchor', args);
  const before = await panels.stats();
  const result = await runRole('--apply', args);
  const served = await panels.stats();
  const anchorAfter = await runRole('--anchor', args);
  const anchor = {
    ms: (anchorBefore.ms + anchorAfter.ms) / 2,
    cpuMs: (anchorBefore.cpuMs + anchorAfter.cpuMs) / 2,
    maxRssKb: Math.max(anchorBefore.maxRssKb, anchorAfter.maxRssKb),
  };
  await panels.stop();
  await fs.rm(dir, { recursive: true, force: true });
  const ideal = (count * ROUND_TRIPS * LATENCY_MS) / CONCURRENCY;
  return { panels: count, ...result, anchor, writes: served.writes - before.writes, panelCpuMs: served.cpuMs - before.cpuMs, ideal };
}

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const rows = [];
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
for (const n of sizes.length ? sizes : [100, 1000]) {
  const r = await benchOnce(n);
  rows.push(r);
  console.log(
    `${String(n).padStart(6)} panels: ${seconds(r.ms)} = x${(r.ms / r.ideal).toFixed(2)} of ideal ${seconds(r.ideal)}, x${(r.ms / r.anchor.ms).toFixed(2)} of anchor ${seconds(r.anchor.ms)}; ` +
      `${r.done}/${r.total} done, ${r.writes} writes, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB (${(r.setupMaxRssKb / 1024).toFixed(0)} MB before the apply; anchor ${(r.anchor.maxRssKb / 1024).toFixed(0)} MB), ` +
      `CPU: apply ${seconds(r.cpuMs)} = ${((r.cpuMs / n) * 1000).toFixed(0)} µs per panel = x${(r.cpuMs / r.anchor.cpuMs).toFixed(2)} of anchor ${seconds(r.anchor.cpuMs)}, panels ${seconds(r.panelCpuMs)}`,
  );
}
for (let i = 1; i < rows.length; i++) {
  const [a, b] = [rows[i - 1], rows[i]];
  console.log(
    `${a.panels} -> ${b.panels} panels (x${b.panels / a.panels}): wall time x${(b.ms / a.ms).toFixed(2)}, peak RSS x${(b.maxRssKb / a.maxRssKb).toFixed(2)}`,
  );
}
console.log(
  `(concurrency ${CONCURRENCY}, ${LATENCY_MS} ms per answer, ${ROUND_TRIPS} round trips per change, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)})`,
);
