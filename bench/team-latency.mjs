// What the team store adds to a command on a panel: `users list --panel demo` with the files
// backend beside the same command with PANELCTL_STATE=postgres://... (one connection and one
// statement before the panel: schema check, lease, lock and its row together), side by side; and
// the statements each command sends, counted by the server (pg_stat_database.xact_commit).
// Run after `npm run build`: node bench/team-latency.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { interleave, fmt } from './lib.mjs';
import { migrate, query, startPostgres } from './team-pg.mjs';

const bin = new URL('../bin/panelctl.js', import.meta.url).pathname;
const server = await startPostgres();
const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-latency-')));
try {
  migrate(server.url);
  // No inventory (the default path under an empty config dir): the demo panel needs none.
  const { PANELCTL_INVENTORY: _none, ...inherited } = process.env;
  const env = (dir, state) => ({
    env: { ...inherited, XDG_CONFIG_HOME: dir, PANELCTL_STATE_DIR: dir, PANELCTL_DEMO_DIR: path.join(dir, 'demo'), PANELCTL_STATE: state, NO_COLOR: '1' },
  });
  const args = ['users', 'list', '--panel', 'demo', '-o', 'json'];
  const node = process.execPath;
  const [version, files, shared] = interleave(
    [
      { argv: [node, bin, '--version'], options: env(dirs[0], 'files') },
      { argv: [node, bin, ...args], options: env(dirs[0], 'files') },
      { argv: [node, bin, ...args], options: env(dirs[1], server.url) },
    ],
    15,
    2,
  );
  // Statements one command sends, as the server logs them (log_statement = all, this cluster only).
  let statements = 'not counted (PANELCTL_BENCH_PG: no server log here)';
  if (server.log) {
    await query(server.url, "ALTER SYSTEM SET log_statement = 'all'");
    await query(server.url, 'SELECT pg_reload_conf()');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const from = fs.statSync(server.log).size;
    execFileSync(node, [bin, ...args], { ...env(dirs[1], server.url), stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const logged = fs.readFileSync(server.log, 'utf8').slice(from);
    statements = String(logged.split('\n').filter((l) => /LOG: {2}(execute|statement)/.test(l)).length);
  }
  console.log(`panelctl --version:                       ${fmt(version)}`);
  console.log(`users list --panel demo, files backend:    ${fmt(files)}`);
  console.log(`users list --panel demo, postgres backend: ${fmt(shared)}`);
  console.log(`added by the postgres backend: ${fmt(shared - files)} (ratio ${(shared / files).toFixed(2)})`);
  console.log(`statements the command sent: ${statements} (before the panel: one, the lock with its lease and schema checks; after: the release)`);
} finally {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await server.stop();
}
