// `test-mode status --all` over 1,000 leases reads the state dir only: how much slower than
// `panelctl --version` (the start-up floor) and than status with no lease at all?
// Run after `npm run build`: node bench/test-mode-status.mjs [leases]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { interleave, fmt } from './lib.mjs';
import { writeLeaseFiles } from './leases.mjs';

const count = Number(process.argv[2] ?? 1000);
const bin = new URL('../bin/panelctl.js', import.meta.url).pathname;
const full = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-leases-'));
const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-noleases-'));
writeLeaseFiles(full, count);

const options = (dir) => ({ env: { ...process.env, PANELCTL_STATE_DIR: dir, PANELCTL_INVENTORY: '/nonexistent', NO_COLOR: '1' } });
const node = process.execPath;
const [version, none, many, manyJson] = interleave([
  { argv: [node, bin, '--version'], options: options(empty) },
  { argv: [node, bin, 'test-mode', 'status', '--all'], options: options(empty) },
  { argv: [node, bin, 'test-mode', 'status', '--all'], options: options(full) },
  { argv: [node, bin, 'test-mode', 'status', '--all', '-o', 'json'], options: options(full) },
]);

console.log(`panelctl --version:                          ${fmt(version)}`);
console.log(`test-mode status --all, no leases:           ${fmt(none)}`);
console.log(`test-mode status --all, ${count} leases (table): ${fmt(many)}`);
console.log(`test-mode status --all, ${count} leases (json):  ${fmt(manyJson)}`);
console.log(`ratio ${count} leases / no leases: ${(many / none).toFixed(2)}; / --version: ${(many / version).toFixed(2)}`);
fs.rmSync(full, { recursive: true, force: true });
fs.rmSync(empty, { recursive: true, force: true });
