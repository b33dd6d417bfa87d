#!/usr/bin/env node
// npm run mutation [-- group...]: runs Stryker on each group of mutation.groups.mjs (all by default), then checks
// that every mutated module scores at least FLOOR and writes mutation/scores.md. Exit 1 if a module is below.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { groups } from '../mutation.groups.mjs';

const FLOOR = 90;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const names = process.argv.slice(2);
for (const name of names) if (!groups[name]) throw new Error(`unknown group ${name}: ${Object.keys(groups).join(', ')}`);

const stryker = path.join(root, 'node_modules', '.bin', 'stryker');
for (const name of names.length ? names : Object.keys(groups)) {
  console.log(`\n== mutation group ${name}: ${groups[name].mutate.join(', ')}`);
  const run = spawnSync(stryker, ['run'], { cwd: root, stdio: 'inherit', env: { ...process.env, MUTATION_GROUP: name } });
  if (run.status !== 0) {
    console.error(`stryker failed for group ${name} (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}

// Scores from the committed incremental files, which hold every group's last full result.
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const rows = [];
for (const name of Object.keys(groups)) {
  const file = path.join(root, 'mutation', `${name}.incremental.json`);
  if (!fs.existsSync(file)) {
    rows.push({ module: groups[name].mutate.join(', '), score: NaN, detected: 0, undetected: 0, ignored: 0, missing: true });
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [module, { mutants }] of Object.entries(report.files)) {
    const count = (set) => mutants.filter((m) => set.has(m.status)).length;
    const detected = count(DETECTED);
    const undetected = count(UNDETECTED);
    const ignored = mutants.filter((m) => m.status === 'Ignored').length;
    rows.push({ module, score: (100 * detected) / (detected + undetected || 1), detected, undetected, ignored });
  }
}

const lines = [
  `| module | score | killed | survived | marked equivalent |`,
  `|---|---|---|---|---|`,
  ...rows.map((r) => `| \`${r.module}\` | ${r.missing ? 'not run' : `${r.score.toFixed(1)}%`} | ${r.detected} | ${r.undetected} | ${r.ignored} |`),
];
fs.writeFileSync(path.join(root, 'mutation', 'scores.md'), `${lines.join('\n')}\n`);
console.log(`\n${lines.join('\n')}`);
const below = rows.filter((r) => r.missing || !(r.score >= FLOOR));
if (below.length) {
  console.error(`\nbelow the ${FLOOR}% floor: ${below.map((r) => r.module).join(', ')}`);
  process.exit(1);
}
console.log(`\nevery module at or above the ${FLOOR}% floor`);
