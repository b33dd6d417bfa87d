// A throwaway PostgreSQL cluster for the team-mode benches (as test/support/postgres-cluster.ts does
// for the tests): initdb + pg_ctl in a temp dir on a free loopback port, as the postgres user when
// run as root. PANELCTL_BENCH_PG=postgres://... uses a running server instead.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

function bindir() {
  const debian = '/usr/lib/postgresql';
  const versions = fs.existsSync(debian)
    ? fs
        .readdirSync(debian)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => b - a)
    : [];
  return versions.map((v) => path.join(debian, v, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb')));
}

function owner() {
  if (process.getuid() !== 0) return {};
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:') || l.startsWith('nobody:'));
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

export async function startPostgres() {
  if (process.env.PANELCTL_BENCH_PG) return { url: process.env.PANELCTL_BENCH_PG, log: undefined, stop: async () => undefined };
  const bin = bindir();
  if (!bin) throw new Error('no PostgreSQL server binaries: apt-get install postgresql');
  const who = owner();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-bench-pg-'));
  const data = path.join(base, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  if (who.uid !== undefined) for (const d of [base, data]) fs.chownSync(d, who.uid, who.gid);
  const run = (file, args) => {
    const r = spawnSync(path.join(bin, file), args, { ...who, cwd: '/', env: { PATH: process.env.PATH, LC_ALL: 'C' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${file} failed: ${r.stdout}${r.stderr}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  // Durable settings as a production server has them: fsync on, synchronous commit on.
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    `\nlisten_addresses='127.0.0.1'\nport=${port}\nunix_socket_directories='${data}'\nmax_connections=100\n`,
  );
  run('pg_ctl', ['start', '-D', data, '-w', '-l', path.join(base, 'log')]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    log: path.join(base, 'log'),
    stop: async () => {
      spawnSync(path.join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'], { ...who, cwd: '/' });
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Runs `panelctl state migrate` against url (the binary, as a desk would). */
export function migrate(url) {
  const bin = new URL('../bin/panelctl.js', import.meta.url).pathname;
  execFileSync(process.execPath, [bin, 'state', 'migrate'], { env: { ...process.env, PANELCTL_STATE: url }, stdio: 'ignore' });
}

export async function query(url, text, values = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}
