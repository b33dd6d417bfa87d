import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { BIN, makeSandbox, type Sandbox } from '../support/cli.js';
import { freshDatabase, postgresMissing, sql } from '../support/postgres.js';

/**
 * Team mode against a real PostgreSQL (issue 18): the schema is migrated by `state migrate`
 * (idempotent, refuses a newer schema), and two engineers on two laptops (two state dirs, one
 * database) never talk to one panel at once: the second is refused with exit 4 naming the first.
 */

let url: string;
let anna: Sandbox;
let bob: Sandbox;
let silent: net.Server;
let silentPort: number;
const sockets = new Set<net.Socket>();

const inventory = () => `panels:\n  bergen-shop:\n    driver: integra\n    link: tcp://127.0.0.1:${silentPort}\n    secret: env:SHOP_CODE\n`;
const env = (who: string) => ({ PANELCTL_STATE: url, PANELCTL_OPERATOR: who, SHOP_CODE: '1111' });

describe.skipIf(postgresMissing)('team state on PostgreSQL', () => {
  beforeAll(async () => {
    url = await freshDatabase('team');
    // A panel that accepts the connection and never answers: whoever connects holds it until its timeout.
    silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
    anna = await makeSandbox();
    bob = await makeSandbox();
    await anna.writeInventory(inventory());
    await bob.writeInventory(inventory());
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await anna?.cleanup();
    await bob?.cleanup();
  });

  it('a command before the schema exists is refused, asking for `state migrate`', async () => {
    const status = await anna.run(['test-mode', 'status'], { env: env('anna') });
    expect(status.code, status.stderr).toBe(2);
    expect(status.stderr).toMatch(/has no panelctl schema yet/);
    expect(status.stderr).toMatch(/panelctl state migrate/);
  });

  it('state migrate creates the schema, and running it again changes nothing', async () => {
    const first = await anna.run(['state', 'migrate', '-o', 'json'], { env: env('anna') });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ from: 0, to: 3, applied: [{ version: 1 }, { version: 2 }, { version: 3 }] });
    const again = await bob.run(['state', 'migrate', '-o', 'json'], { env: env('bob') });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ from: 3, to: 3, applied: [] });
    expect(await sql(url, 'SELECT version FROM panelctl_schema ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
  });

  it('a database one version behind asks for `state migrate`, which applies only the missing step', async () => {
    const older = await freshDatabase('older');
    const envOlder = { ...env('anna'), PANELCTL_STATE: older };
    // A database as version 1 left it: its schema without version 2's tables.
    const { MIGRATIONS } = await import('../../src/state/postgres/migrations.js');
    await sql(
      older,
      `CREATE TABLE panelctl_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); ${MIGRATIONS[0].sql}`,
    );
    await sql(older, "INSERT INTO panelctl_schema (version, name) VALUES (1, 'v1')");
    const status = await anna.run(['test-mode', 'status'], { env: envOlder });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/has schema version 1, older than this panelctl's 3/);
    const migrate = await anna.run(['state', 'migrate', '-o', 'json'], { env: envOlder });
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(JSON.parse(migrate.stdout)).toMatchObject({ from: 1, to: 3, applied: [{ version: 2 }, { version: 3 }] });
    expect((await anna.run(['test-mode', 'status'], { env: envOlder })).code).toBe(0);
  });

  it('a schema newer than this panelctl is refused with a clear message, by migrate and by every command', async () => {
    await sql(url, "INSERT INTO panelctl_schema (version, name) VALUES (99, 'from the future')");
    try {
      const migrate = await anna.run(['state', 'migrate'], { env: env('anna') });
      expect(migrate.code).toBe(2);
      expect(migrate.stderr).toMatch(/schema version 99, newer than this panelctl knows \(3\)/);
      const status = await anna.run(['test-mode', 'status'], { env: env('anna') });
      expect(status.code).toBe(2);
      expect(status.stderr).toMatch(/schema version 99, newer/);
    } finally {
      await sql(url, 'DELETE FROM panelctl_schema WHERE version = 99');
    }
  });

  it('two engineers on one panel: the second is refused with exit 4 naming the first; the lock ends with its process', async () => {
    const holder = spawn(process.execPath, [BIN, 'users', 'list', '--panel', 'bergen-shop', '--timeout', '20s', '--ticket', 'T-1234'], {
      env: { ...anna.env, ...env('anna') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await until(async () => JSON.parse((await bob.run(['locks', '-o', 'json'], { env: env('bob') })).stdout).locks.length === 1);
      const { locks } = JSON.parse((await bob.run(['locks', '-o', 'json'], { env: env('bob') })).stdout);
      expect(locks[0]).toMatchObject({ panel: 'bergen-shop', operator: 'anna', command: 'users list', ticket: 'T-1234', pid: holder.pid });

      const second = await bob.run(['users', 'set-code', '--panel', 'bergen-shop', '--slot', '5', '--code-stdin'], { env: env('bob'), input: '583920\n' });
      expect(second.code, second.stderr).toBe(4);
      expect(second.stderr).toMatch(
        new RegExp(`bergen-shop is in use by another panelctl: "users list", process ${holder.pid}, on .+, by anna, ticket T-1234, since`),
      );
      // The refused attempt is in the desk's audit log, with who and from where; never the code.
      const [audit] = await sql(url, 'SELECT operator, host, panel, entry FROM panelctl_audit');
      expect(audit).toMatchObject({ operator: 'bob', panel: 'bergen-shop', host: expect.any(String) });
      expect(audit.entry).toMatchObject({ outcome: expect.stringMatching(/failed|refused/), error: { code: 'E_PANEL_LOCKED' } });
      expect(JSON.stringify(audit)).not.toContain('583920');

      holder.kill('SIGKILL');
      await exited(holder);
      // The server saw the connection close: the lock is gone at once, no staleness timeout.
      const after = JSON.parse((await bob.run(['locks', '-o', 'json'], { env: env('bob') })).stdout);
      expect(after.locks).toEqual([]);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
