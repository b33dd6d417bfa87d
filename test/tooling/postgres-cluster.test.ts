import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { findBindir, startCluster, stopCluster } from '../support/postgres-cluster.js';

/**
 * The run's throwaway PostgreSQL cluster (test/support/postgres-cluster.ts). A port found free is free only for a
 * moment: on a busy machine something else took it before the server bound it ("Address already in use"), the
 * cluster did not start, and every team-mode test of the run was skipped.
 */
const held: net.Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A loopback port that something else is listening on. */
async function takenPort(): Promise<number> {
  const server = net.createServer();
  held.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const port = await takenPort();
  await new Promise((resolve) => held.pop()?.close(resolve));
  return port;
}

describe.skipIf(!findBindir())("the run's PostgreSQL cluster", () => {
  it('starts on another port when the one it picked was taken before the server bound it', async () => {
    const taken = await takenPort();
    const picked: number[] = [];
    const cluster = await startCluster(async () => {
      const port = picked.length < 2 ? taken : await freePort();
      picked.push(port);
      return port;
    });
    try {
      expect(picked.slice(0, 2)).toEqual([taken, taken]);
      expect(picked).toHaveLength(3);
      expect(cluster.port).toBe(picked[2]);
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await stopCluster(cluster);
    }
  }, 60_000);

  it('gives up after five taken ports, naming why, and leaves no directory behind', async () => {
    const taken = await takenPort();
    // Its own temp dir (traversable by the postgres user that owns the cluster), to see what is left in it.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-pg-test-'));
    fs.chmodSync(tmp, 0o755);
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let picks = 0;
    try {
      await expect(
        startCluster(async () => {
          picks++;
          return taken;
        }),
      ).rejects.toThrow(/pg_ctl start .* exited 1/);
      expect(picks).toBe(5);
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
