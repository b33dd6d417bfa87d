// Audit append throughput and per-append latency: 16 writer processes sharing one PostgreSQL audit
// chain (10,000 entries in all) beside the files backend's single writer (the same number of entries,
// one process, each append awaited), run one after the other on this machine.
// Run after `npm run build`: node bench/team-audit.mjs [entries] [writers]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrate, query, startPostgres } from './team-pg.mjs';

const total = Number(process.argv[2] ?? 10_000);
const writers = Number(process.argv[3] ?? 16);
const writer = new URL('./team-audit-writer.mjs', import.meta.url).pathname;
const run = promisify(execFile);

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function measure(store, processes, perProcess) {
  const start = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: processes }, (_, w) => run(process.execPath, [writer, store, `writer-${w}`, String(perProcess)], { maxBuffer: 64 << 20 })),
  );
  const seconds = (performance.now() - start) / 1000;
  const latencies = outputs.flatMap((o) => JSON.parse(o.stdout));
  return { entries: latencies.length, seconds, rate: latencies.length / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99) };
}

const line = (label, r) =>
  console.log(
    `${label}: ${r.entries} entries in ${r.seconds.toFixed(1)} s = ${r.rate.toFixed(0)}/s; per append p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
  );

const server = await startPostgres();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-audit-'));
fs.chmodSync(dir, 0o700);
try {
  migrate(server.url);
  const files = await measure(`files:${dir}`, 1, total);
  const shared = await measure(server.url, writers, Math.ceil(total / writers));
  line('files, 1 writer          ', files);
  line(`postgres, ${writers} writers     `, shared);
  console.log(`throughput ratio postgres ${writers} writers / files 1 writer: ${(shared.rate / files.rate).toFixed(2)}`);
  const [{ n }] = await query(server.url, 'SELECT count(*)::int AS n FROM panelctl_audit');
  console.log(`entries in the shared chain: ${n} (expected ${shared.entries})`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
  await server.stop();
}
