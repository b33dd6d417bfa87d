// bulk apply at scale: N simulated panels, each answering after 20 ms, one code change each,
// applied 64 at a time. Prints wall time against the ideal (panels x round trips x latency /
// concurrency), the applying process's peak RSS, and how both grow with N.
//
//   npm run build && node bench/bulk-apply.mjs [100 1000 10000]
//
// The panels are the bulk tests' fake panel model (real TCP on loopback, one client at a time),
// served from this process; the apply runs in a child process so its RSS is its own. It is
// the real engine (dist/), journal fsyncs and audit log included.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const errors = await import(dist('core/errors.js'));
const secret = await import(dist('core/secret.js'));
const { connectTcp, serveTcp } = await import(dist('transport/tcp.js'));
const { fakePanels } = await import(new URL('../test/bulk/support/fake-panel.mjs', import.meta.url).href);
const fake = fakePanels({ errors, transport: { connectTcp, serveTcp }, secret });

const LATENCY_MS = 20;
const CONCURRENCY = 64;
// login, read the user, change the code, verify the code, read the user back
const ROUND_TRIPS = 5;

if (process.argv[2] === '--child') {
  // The applying process: reads the plan, applies it, reports its own time and peak RSS.
  const args = JSON.parse(process.argv[3]);
  const { loadInventory } = await import(dist('inventory/load.js'));
  const { allTargets } = await import(dist('inventory/targets.js'));
  const { readPlan } = await import(dist('bulk/plan.js'));
  const { applyPlan } = await import(dist('bulk/apply.js'));
  const { CodeBook } = await import(dist('bulk/codes.js'));
  const targets = allTargets(await loadInventory(args.inventory, true));
  const plan = await readPlan(args.plan, args.state);
  const start = performance.now();
  const report = await applyPlan(plan, new Map(targets.map((t) => [t.name, t])), { operator: 'bench', stateDir: args.state, timeoutMs: 5000 }, {
    concurrency: CONCURRENCY,
    resume: false,
    retries: 3,
    backoffMs: 50,
    maxBackoffMs: 1000,
    codes: { book: await CodeBook.load(args.codes) },
    access: fake.access,
  });
  const ms = performance.now() - start;
  const done = report.outcomes.filter((o) => o.status === 'done').length;
  process.stdout.write(JSON.stringify({ ms, done, total: report.outcomes.length, maxRssKb: process.resourceUsage().maxRSS }));
  process.exit(0);
}

async function benchOnce(panels) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'panelctl-bench-'));
  process.env.BENCH_CODE = '2580';
  const sims = [];
  const lines = ['panels:'];
  for (let i = 0; i < panels; i++) {
    const sim = fake.createPanel({ credential: '2580', users: [{ slot: 2, name: 'Bob', code: '640211' }] });
    const server = await sim.listenTcp('127.0.0.1', 0);
    sims.push(sim);
    lines.push(`  b${i}: { driver: integra, link: "tcp://127.0.0.1:${server.port}", secret: env:BENCH_CODE }`);
  }
  const inventory = path.join(dir, 'inventory.yaml');
  await fs.writeFile(inventory, `${lines.join('\n')}\n`);
  const codes = path.join(dir, 'codes.csv');
  await fs.writeFile(codes, 'new\n583920\n', { mode: 0o600 });
  // The plan, built directly (planning is not what is measured): one set-code per panel.
  const { writePlan } = await import(dist('bulk/plan.js'));
  const unsigned = {
    format: 'panelctl-bulk-plan/1',
    createdAt: new Date().toISOString(),
    source: { file: 'bench', rows: 1 },
    panels: sims.map((_, i) => ({
      panel: `b${i}`,
      facts: { driver: 'integra', link: lines[i + 1].match(/tcp:\/\/[^"]+/)[0], options: {} },
      steps: [{ id: `b${i}/1`, row: 1, action: 'set-code', slot: 2, name: 'Bob', code: { source: 'codes', column: 'new', row: 1 } }],
      noops: [],
      conflicts: [],
    })),
  };
  const plan = path.join(dir, 'plan.json');
  await writePlan(plan, unsigned, path.join(dir, 'state'));
  for (const sim of sims) sim.setFaults({ latencyMs: LATENCY_MS });

  const args = { inventory, plan, codes, state: path.join(dir, 'state') };
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(args)], { env: { ...process.env, BENCH_CODE: '2580' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  const result = JSON.parse(out);
  const writes = sims.reduce((n, s) => n + s.stats.writes, 0);
  await Promise.all(sims.map((s) => s.close()));
  await fs.rm(dir, { recursive: true, force: true });
  const ideal = (panels * ROUND_TRIPS * LATENCY_MS) / CONCURRENCY;
  return { panels, ...result, writes, ideal };
}

const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const rows = [];
for (const n of sizes.length ? sizes : [100, 1000]) {
  const r = await benchOnce(n);
  rows.push(r);
  console.log(
    `${String(n).padStart(6)} panels: ${(r.ms / 1000).toFixed(2)} s (ideal ${(r.ideal / 1000).toFixed(2)} s, x${(r.ms / r.ideal).toFixed(2)}), ` +
      `${r.done}/${r.total} done, ${r.writes} writes, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB`,
  );
}
for (let i = 1; i < rows.length; i++) {
  const [a, b] = [rows[i - 1], rows[i]];
  console.log(`${a.panels} -> ${b.panels} panels (x${b.panels / a.panels}): wall time x${(b.ms / a.ms).toFixed(2)}, peak RSS x${(b.maxRssKb / a.maxRssKb).toFixed(2)}`);
}
console.log(`(concurrency ${CONCURRENCY}, ${LATENCY_MS} ms per answer, ${ROUND_TRIPS} round trips per change, ${os.cpus().length} CPUs)`);
