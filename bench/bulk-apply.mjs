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
//   BENCH_MEMORY=1 ... (memory phase by phase), BENCH_HEAP_SNAPSHOT=DIR ... (a heap snapshot halfway through the apply),
//   BENCH_APPLY_FLAGS="--trace-gc" ... (node flags for the applying process),
//   BENCH_ALLOC_PROF=DIR ... (what the apply allocates, garbage included, as a .heapprofile in DIR)
//   node bench/bulk-apply.mjs --against ../old-checkout [--rounds 3] 1000 10000
//
// --against runs the apply of a second build (a checkout of an older commit, built, with its own
// dist/) against the same panels in the same run, in turns (this, other, other, this, ...), each
// apply with its own state dir and its own plan written by the build that applies it, and prints
// the after/before ratios of each round beside their medians: on a shared machine only figures
// measured side by side compare.
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
import v8 from 'node:v8';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A module of a build's dist/ (this checkout's, or the --against one's). */
const distOf = (root, p) => new URL(`file://${path.join(root, 'dist', p)}`).href;
const dist = (p, root = here) => distOf(root, `src/${p}`);
const self = fileURLToPath(import.meta.url);

const LATENCY_MS = 20;
const CONCURRENCY = 64;
// login, read the user, change the code, verify the code, read the user back
const ROUND_TRIPS = 5;
const CREDENTIAL = '2580';

async function fakePanelKit(root = here) {
  // The build's own modules: its error classes are the ones its engine tells apart.
  const errors = await import(dist('core/errors.js', root));
  const secret = await import(dist('core/secret.js', root));
  const { connectTcp, serveTcp } = await import(dist('transport/tcp.js', root));
  const { fakePanels } = await import(new URL('../test/bulk/support/fake-panel.mjs', import.meta.url).href);
  return fakePanels({ errors, transport: { connectTcp, serveTcp }, secret });
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * BENCH_MEMORY=1: where the applying process's memory goes, phase by phase (peak RSS at the end of
 * each, and the largest heap seen during it, sampled every 10 ms).
 */
function memoryPhases() {
  const phases = [];
  if (!process.env.BENCH_MEMORY) return { phases, phase() {} };
  let peak = { heapUsed: 0, heapTotal: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
  };
  setInterval(sample, 10).unref();
  return {
    phases,
    phase(name) {
      sample();
      const mbOf = (bytes) => Math.round(bytes / 2 ** 20);
      phases.push({
        name,
        maxRssMb: mbOf(process.resourceUsage().maxRSS * 1024),
        heapUsedMb: mbOf(peak.heapUsed),
        heapTotalMb: mbOf(peak.heapTotal),
        externalMb: mbOf(peak.external),
      });
      peak = { heapUsed: 0, heapTotal: 0, external: 0 };
    },
  };
}

/**
 * BENCH_ALLOC_PROF=DIR: every allocation of the apply, sampled (one in 32 KiB), garbage included
 * (what makes V8 grow its heap is what is allocated, not only what stays), written to DIR as a
 * .heapprofile (Chrome DevTools, Memory tab).
 */
async function allocationSampling() {
  const dir = process.env.BENCH_ALLOC_PROF;
  if (!dir) return { async stop() {} };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 32768,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    async stop() {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      await fs.writeFile(path.join(dir, `apply-${process.pid}.heapprofile`), JSON.stringify(profile));
    },
  };
}

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
  const root = args.root;
  // What runApply does first (src/core/heap-growth.ts); a build without it has nothing to call.
  (await import(dist('core/heap-growth.js', root)).catch(() => undefined))?.keepHeapNearLive();
  const fake = await fakePanelKit(root);
  const { loadInventory } = await import(dist('inventory/load.js', root));
  const { allTargets } = await import(dist('inventory/targets.js', root));
  const { readPlan } = await import(dist('bulk/plan.js', root));
  const { applyPlan } = await import(dist('bulk/apply.js', root));
  const { CodeBook } = await import(dist('bulk/codes.js', root));
  const { lockPanel } = await import(dist('operations/session.js', root));
  const { drivers } = await import(distOf(root, 'drivers/index.js'));
  const memory = memoryPhases();
  memory.phase('modules');
  const targets = allTargets(await loadInventory(args.inventory, true, '--inventory', drivers.names));
  memory.phase('inventory');
  const plan = await readPlan(args.plan, args.state);
  memory.phase('plan read');
  // As openPanel does for a real driver: the panel's work lock is held from connecting until
  // close(); hangUp() ends the connection only (a build whose engine does not hang up ignores it).
  const access = {
    describe: fake.access.describe,
    async open(target, ctx) {
      const lock = await lockPanel(target, ctx);
      try {
        const open = await fake.access.open(target, ctx);
        let hungUp;
        const hangUp = () => (hungUp ??= open.close());
        return { ...open, hangUp, close: () => hangUp().finally(() => lock.release()) };
      } catch (error) {
        await lock.release();
        throw error;
      }
    },
  };
  const codes = { book: await CodeBook.load(args.codes) };
  const allocations = await allocationSampling();
  // What reading the inventory and checking the plan cost, apart from the apply itself.
  const setupMaxRssKb = process.resourceUsage().maxRSS;
  const cpuBefore = cpuMs();
  const usageBefore = process.cpuUsage();
  const start = performance.now();
  const report = await applyPlan(
    plan,
    new Map(targets.map((t) => [t.name, t])),
    { operator: 'bench', stateDir: args.state, timeoutMs: 5000, drivers },
    {
      concurrency: CONCURRENCY,
      resume: false,
      retries: 3,
      backoffMs: 50,
      maxBackoffMs: 1000,
      codes,
      access,
      // BENCH_HEAP_SNAPSHOT=DIR: what the applying process holds halfway through (written to DIR).
      onEvent: process.env.BENCH_HEAP_SNAPSHOT
        ? (event) => {
            if (event.type === 'panel' && event.finished === Math.ceil(event.total / 2))
              v8.writeHeapSnapshot(path.join(process.env.BENCH_HEAP_SNAPSHOT, `apply-${process.pid}.heapsnapshot`));
          }
        : undefined,
    },
  );
  const ms = performance.now() - start;
  memory.phase('applied');
  await allocations.stop();
  const done = report.outcomes.filter((o) => o.status === 'done').length;
  process.stdout.write(
    JSON.stringify({
      ms,
      cpuMs: cpuMs() - cpuBefore,
      // In the kernel (file system, sockets): the part of the CPU that fewer system calls save.
      systemMs: process.cpuUsage(usageBefore).system / 1000,
      done,
      total: report.outcomes.length,
      maxRssKb: process.resourceUsage().maxRSS,
      setupMaxRssKb,
      memory: memory.phases,
    }),
  );
  process.exit(0);
}

if (process.argv[2] === '--anchor') {
  // The anchor: the same requests as one set-code step, without the engine around them. What it
  // holds is what any client of these panels needs: the inventory's targets, 64 connections, and
  // a pool of 64 workers taking the next panel (not a queued task per panel: 10,000 pending
  // promises would make the floor heavier than a lean client is, and the engine does not queue).
  const args = JSON.parse(process.argv[3]);
  const fake = await fakePanelKit();
  const { loadInventory } = await import(dist('inventory/load.js'));
  const { allTargets } = await import(dist('inventory/targets.js'));
  const { Secret } = await import(dist('core/secret.js'));
  const { drivers } = await import(distOf(here, 'drivers/index.js'));
  const targets = allTargets(await loadInventory(args.inventory, true, '--inventory', drivers.names));
  const code = new Secret('583920', 'new code');
  const setupMaxRssKb = process.resourceUsage().maxRSS;
  const cpuBefore = cpuMs();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const target = targets[next++];
      const { session, close } = await fake.access.open(target, { timeoutMs: 5000 });
      await session.reader.readUser(2);
      await session.writer.changeCode(2, code);
      await session.codeChecker.verifyCode(2, code);
      await session.reader.readUser(2);
      await close();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - start;
  process.stdout.write(JSON.stringify({ ms, cpuMs: cpuMs() - cpuBefore, maxRssKb: process.resourceUsage().maxRSS, setupMaxRssKb }));
  process.exit(0);
}

/** Runs this script in a child process in the given role and returns what it printed, parsed. */
async function runRole(role, args) {
  const profile = role === '--apply' && process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  // BENCH_APPLY_FLAGS="--trace-gc ...": node flags for the applying process only.
  if (role === '--apply' && process.env.BENCH_APPLY_FLAGS) profile.push(...process.env.BENCH_APPLY_FLAGS.split(' ').filter(Boolean));
  const child = spawn(process.execPath, [...profile, self, role, JSON.stringify(args)], {
    env: { ...process.env, BENCH_CODE: CREDENTIAL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  // The result is the last line; anything before it (--trace-gc writes to stdout) goes to stderr.
  const last = out.lastIndexOf('\n');
  if (last >= 0) process.stderr.write(out.slice(0, last + 1));
  return JSON.parse(out.slice(last + 1));
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

/** Writes the plan (one set-code per panel) with a build's own writePlan, in a state dir of its own. */
async function writeBenchPlan(root, dir, links) {
  const { writePlan } = await import(dist('bulk/plan.js', root));
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
  return plan;
}

/**
 * One size: the panel process, then per round an anchor, the applies (this build and, with
 * --against, the other one, in alternating order), and an anchor again. Each apply gets a fresh
 * state dir and a plan written by its own build (planning is not what is measured).
 */
async function benchSize(count, builds, rounds) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-bench-'));
  const panels = await startPanels(count);
  const links = panels.ports.map((port) => `tcp://127.0.0.1:${port}`);
  const inventory = path.join(dir, 'inventory.yaml');
  await fs.writeFile(inventory, `panels:\n${links.map((link, i) => `  b${i}: { driver: integra, link: "${link}", secret: env:BENCH_CODE }`).join('\n')}\n`);
  const codes = path.join(dir, 'codes.csv');
  await fs.writeFile(codes, 'new\n583920\n', { mode: 0o600 });
  const ideal = (count * ROUND_TRIPS * LATENCY_MS) / CONCURRENCY;
  const results = builds.map(() => []);
  const anchors = [];
  let applies = 0;
  for (let round = 0; round < rounds; round++) {
    // The anchor leaves each panel with the plan's code, which the apply writes again.
    const anchorBefore = await runRole('--anchor', { inventory });
    const order = builds.map((_, k) => k);
    if (round % 2) order.reverse();
    const applied = [];
    for (const k of order) {
      const own = path.join(dir, `apply-${applies++}`);
      await fs.mkdir(own);
      const plan = await writeBenchPlan(builds[k].root, own, links);
      const before = await panels.stats();
      const result = await runRole('--apply', { root: builds[k].root, inventory, plan, codes, state: path.join(own, 'state') });
      const served = await panels.stats();
      applied[k] = { ...result, writes: served.writes - before.writes, panelCpuMs: served.cpuMs - before.cpuMs };
      await fs.rm(own, { recursive: true, force: true });
    }
    const anchorAfter = await runRole('--anchor', { inventory });
    // The anchor counts as the mean of before and after, so load that comes or goes during the
    // round weighs on both sides alike.
    const anchor = {
      ms: (anchorBefore.ms + anchorAfter.ms) / 2,
      cpuMs: (anchorBefore.cpuMs + anchorAfter.cpuMs) / 2,
      maxRssKb: Math.max(anchorBefore.maxRssKb, anchorAfter.maxRssKb),
      setupMaxRssKb: Math.max(anchorBefore.setupMaxRssKb, anchorAfter.setupMaxRssKb),
    };
    anchors.push(anchor);
    applied.forEach((r, k) => results[k].push({ ...r, anchor }));
  }
  await panels.stop();
  await fs.rm(dir, { recursive: true, force: true });
  return { count, ideal, results, anchors };
}

const argv = process.argv.slice(2);
const option = (name) => (argv.includes(name) ? argv.splice(argv.indexOf(name), 2)[1] : undefined);
const against = option('--against');
const builds = [{ label: 'this build', root: here }, ...(against ? [{ label: `against ${against}`, root: path.resolve(against) }] : [])];
const rounds = Number(option('--rounds') ?? (against ? 2 : 1));
const sizes = argv.map(Number).filter(Boolean);
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const x = (v) => `x${v.toFixed(2)}`;
const sized = [];
for (const n of sizes.length ? sizes : [100, 1000]) {
  const size = await benchSize(n, builds, rounds);
  sized.push(size);
  builds.forEach((build, k) => {
    for (const r of size.results[k]) {
      console.log(
        `${String(n).padStart(6)} panels, ${build.label}: ${seconds(r.ms)} = ${x(r.ms / size.ideal)} of ideal ${seconds(size.ideal)}, ${x(r.ms / r.anchor.ms)} of anchor ${seconds(r.anchor.ms)}; ` +
          `${r.done}/${r.total} done, ${r.writes} writes, peak RSS ${mb(r.maxRssKb)} (${mb(r.setupMaxRssKb)} before the apply; anchor ${mb(r.anchor.maxRssKb)}, ${mb(r.anchor.setupMaxRssKb)} before its requests), ` +
          `CPU: apply ${seconds(r.cpuMs)} = ${((r.cpuMs / n) * 1000).toFixed(0)} µs per panel = ${x(r.cpuMs / r.anchor.cpuMs)} of anchor ${seconds(r.anchor.cpuMs)} (${((r.systemMs / r.cpuMs) * 100).toFixed(0)}% in the kernel), panels ${seconds(r.panelCpuMs)}`,
      );
      if (r.memory.length)
        console.log(
          `        memory by phase (peak RSS at its end; largest heap used / heap total / external during it): ${r.memory.map((m) => `${m.name} ${m.maxRssMb} MB (${m.heapUsedMb}/${m.heapTotalMb}/${m.externalMb})`).join(', ')}`,
        );
    }
  });
  const med = (k, f) => median(size.results[k].map(f));
  builds.forEach((build, k) => {
    console.log(
      `${String(n).padStart(6)} panels, ${build.label}, median of ${rounds}: ${x(med(k, (r) => r.ms / size.ideal))} of ideal, ${x(med(k, (r) => r.ms / r.anchor.ms))} of anchor, ` +
        `peak RSS ${mb(med(k, (r) => r.maxRssKb))} (before the apply ${mb(med(k, (r) => r.setupMaxRssKb))}), CPU ${(med(k, (r) => r.cpuMs / n) * 1000).toFixed(0)} µs per panel`,
    );
  });
  if (against) {
    // Paired: this build over the other one, round by round.
    const pair = (f) => size.results[0].map((r, i) => f(r) / f(size.results[1][i]));
    const show = (f) =>
      `${x(median(pair(f)))} (${pair(f)
        .map((v) => v.toFixed(2))
        .join(' ')})`;
    console.log(
      `${String(n).padStart(6)} panels, this build / against: wall ${show((r) => r.ms)}, CPU ${show((r) => r.cpuMs)}, peak RSS ${show((r) => r.maxRssKb)}, RSS before the apply ${show((r) => r.setupMaxRssKb)}`,
    );
  }
}
for (let i = 1; i < sized.length; i++) {
  const [a, b] = [sized[i - 1], sized[i]];
  builds.forEach((build, k) => {
    const ms = (s) => median(s.results[k].map((r) => r.ms));
    const rss = (s) => median(s.results[k].map((r) => r.maxRssKb));
    console.log(
      `${a.count} -> ${b.count} panels (x${b.count / a.count}), ${build.label}: wall time ${x(ms(b) / ms(a))}, peak RSS ${x(rss(b) / rss(a))} (${mb(rss(a))} -> ${mb(rss(b))})`,
    );
  });
}
console.log(
  `(concurrency ${CONCURRENCY}, ${LATENCY_MS} ms per answer, ${ROUND_TRIPS} round trips per change, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)})`,
);
