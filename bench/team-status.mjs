// `test-mode status --all` over 10,000 active leases in the team store (PostgreSQL) beside the
// files backend over 1,000 (issue 18: within 2x), and --version as the start-up floor, side by side.
// Run after `npm run build`: node bench/team-status.mjs [pgLeases] [fileLeases]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { interleave, fmt } from './lib.mjs';
import { benchLease, writeLeaseFiles } from './leases.mjs';
import { migrate, query, startPostgres } from './team-pg.mjs';

const pgCount = Number(process.argv[2] ?? 10_000);
const fileCount = Number(process.argv[3] ?? 1000);
const bin = new URL('../bin/panelctl.js', import.meta.url).pathname;
const server = await startPostgres();
try {
  migrate(server.url);
  const rows = Array.from({ length: pgCount }, (_, i) => benchLease(i));
  await query(
    server.url,
    `INSERT INTO panelctl_leases (id, panel, operator, host, until, data)
     SELECT x->>'id', x->>'panel', x->>'operator', 'bench-host', (x->>'until')::timestamptz, x FROM json_array_elements($1::json) x`,
    [JSON.stringify(rows)],
  );
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-team-files-'));
  writeLeaseFiles(files, fileCount);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-team-empty-'));
  const env = (dir, state) => ({ env: { ...process.env, PANELCTL_STATE_DIR: dir, PANELCTL_STATE: state, PANELCTL_INVENTORY: '/nonexistent', NO_COLOR: '1' } });
  const node = process.execPath;
  const [version, filesStatus, pgStatus, pgJson] = interleave(
    [
      { argv: [node, bin, '--version'], options: env(empty, 'files') },
      { argv: [node, bin, 'test-mode', 'status', '--all'], options: env(files, 'files') },
      { argv: [node, bin, 'test-mode', 'status', '--all'], options: env(empty, server.url) },
      { argv: [node, bin, 'test-mode', 'status', '--all', '-o', 'json'], options: env(empty, server.url) },
    ],
    9,
    2,
  );
  console.log(`panelctl --version:                                 ${fmt(version)}`);
  console.log(`test-mode status --all, files, ${fileCount} leases (table):     ${fmt(filesStatus)}`);
  console.log(`test-mode status --all, postgres, ${pgCount} leases (table): ${fmt(pgStatus)}`);
  console.log(`test-mode status --all, postgres, ${pgCount} leases (json):  ${fmt(pgJson)}`);
  console.log(`ratio postgres ${pgCount} / files ${fileCount}: ${(pgStatus / filesStatus).toFixed(2)} (target: at most 2)`);
  fs.rmSync(files, { recursive: true, force: true });
  fs.rmSync(empty, { recursive: true, force: true });
} finally {
  await server.stop();
}
