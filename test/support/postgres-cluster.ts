import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway PostgreSQL cluster owned by one test run: initdb into a temp dir, pg_ctl on a free
 * loopback port, trust auth (nothing but this run can reach it), fsync off (it is thrown away).
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (Debian's
 * package creates it) or else `nobody`; both on a developer's machine and in .ci/run.
 */
export interface ClusterInfo {
  url: string;
  dataDir: string;
  bindir: string;
  port: number;
  uid?: number;
  gid?: number;
}

/** Where initdb and pg_ctl are: $PG_BINDIR, pg_config's answer, or the newest /usr/lib/postgresql/N/bin. */
export function findBindir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BINDIR) candidates.push(process.env.PG_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // not installed with headers; look for Debian's layout
  }
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debian, v, 'bin')));
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
}

/** As root: the uid/gid of an unprivileged account to own the cluster (initdb refuses root). */
function unprivilegedOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error('running as root and there is neither a postgres nor a nobody user to own the test cluster');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function runAs(info: Pick<ClusterInfo, 'uid' | 'gid'>, file: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const options: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C' }, cwd: '/' };
  if (info.uid !== undefined) Object.assign(options, { uid: info.uid, gid: info.gid });
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, options);
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(file)} ${args.join(' ')} exited ${code}: ${output.trim()}`));
    });
  });
}

/** How many ports startCluster tries before it gives up. */
const PORT_ATTEMPTS = 5;

/**
 * Starts the cluster. `pickPort` gives a port free a moment ago; another process (an e2e test's server, another
 * run on the machine) can take it before the server binds it, and then the next one is tried. On failure nothing
 * is left behind.
 */
export async function startCluster(pickPort: () => Promise<number> = freePort): Promise<ClusterInfo> {
  const bindir = findBindir();
  if (!bindir) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian\'s "postgresql" package (.ci/run does)');
  const owner = unprivilegedOwner();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-pg-'));
  try {
    return await initAndStart(bindir, owner, base, pickPort);
  } catch (error) {
    fs.rmSync(base, { recursive: true, force: true });
    throw error;
  }
}

async function initAndStart(
  bindir: string,
  owner: { uid: number; gid: number } | undefined,
  base: string,
  pickPort: () => Promise<number>,
): Promise<ClusterInfo> {
  fs.chmodSync(base, 0o755);
  const dataDir = path.join(base, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  // The server's owner writes its log beside the data dir.
  if (owner) for (const dir of [base, dataDir]) fs.chownSync(dir, owner.uid, owner.gid);
  const info: ClusterInfo = { url: '', dataDir, bindir, port: 0, ...owner };
  await runAs(info, path.join(bindir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const settings = [
    "listen_addresses='127.0.0.1'",
    `unix_socket_directories='${dataDir}'`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'max_connections=300',
  ];
  fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
  const log = path.join(base, 'server.log');
  for (let attempt = 1; ; attempt++) {
    info.port = await pickPort();
    // The last setting of a name in postgresql.conf wins.
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `port=${info.port}\n`);
    try {
      await pgCtl(info, 'start');
      break;
    } catch (error) {
      const taken = /could not bind .*Address already in use/.test(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
      if (!taken || attempt === PORT_ATTEMPTS) throw error;
      fs.rmSync(log, { force: true });
    }
  }
  info.url = `postgres://postgres@127.0.0.1:${info.port}/postgres`;
  return info;
}

/** pg_ctl start/stop/restart, waiting until it is done. */
export function pgCtl(info: ClusterInfo, action: 'start' | 'stop' | 'restart'): Promise<string> {
  const args = [action, '-D', info.dataDir, '-w', '-t', '60'];
  if (action !== 'start') args.push('-m', 'fast');
  if (action !== 'stop') args.push('-l', path.join(path.dirname(info.dataDir), 'server.log'));
  return runAs(info, path.join(info.bindir, 'pg_ctl'), args);
}

export async function stopCluster(info: ClusterInfo): Promise<void> {
  await runAs(info, path.join(info.bindir, 'pg_ctl'), ['stop', '-D', info.dataDir, '-m', 'immediate', '-w']).catch(() => undefined);
  fs.rmSync(path.dirname(info.dataDir), { recursive: true, force: true });
}
