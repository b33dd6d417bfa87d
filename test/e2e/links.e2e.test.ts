import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type Sandbox } from '../support/cli.js';

/** http(s) links through the real binary: read, checked, and refused where no driver can use them, before contact. */
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await makeSandbox();
});

afterAll(async () => {
  await sandbox.cleanup();
});

describe('http(s) links', () => {
  it('a byte-protocol driver on an https link: exit 2, naming its transports, before secrets or the panel', async () => {
    // No listener on port 1 and X not set: an attempt to reach either would say so instead.
    const result = await sandbox.run(['users', 'list', '--link', 'https://127.0.0.1:1', '--driver', 'integra', '--secret-from', 'env:X']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: panel "https://127.0.0.1:1" link: the integra driver talks over tcp:// or serial://, not https://');
  });

  it('probe on an http link no shipped driver speaks: exit 6, not a silent "nothing answered"', async () => {
    const result = await sandbox.run(['probe', 'http://127.0.0.1:1']);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('no driver can probe http:// links');
  });

  it('probe on an https link is tried by the drivers that speak https (map5000); nothing listening is exit 4', async () => {
    const result = await sandbox.run(['probe', 'https://127.0.0.1:1']);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/map5000\s+https:\/\/127\.0\.0\.1:1\s+error: cannot reach/);
  });

  it('an inventory panel with wrong tls settings: every problem listed, exit 2', async () => {
    await sandbox.writeInventory('panels:\n  hq:\n    driver: integra\n    link: tcp://10.0.0.9:7094\n    tls: { fingerprint: "12:34" }\n    secret: env:X\n');
    const result = await sandbox.run(['users', 'list', '--panel', 'hq']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('panel "hq", field "tls": applies to https:// links only');
    expect(result.stderr).toContain('panel "hq", field "tls.fingerprint": must be the SHA-256 fingerprint');
  });
});

describe('typed driver options through the binary', () => {
  async function countingServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
    const { createServer } = await import('node:net');
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    return { port, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it('an inventory with option typos and wrong types: every problem at once, exit 2, nothing contacted', async () => {
    const panel = await countingServer();
    try {
      await sandbox.writeInventory(
        [
          'panels:',
          '  bergen:',
          '    driver: dsc',
          `    link: tcp://127.0.0.1:${panel.port}`,
          '    secret: env:MASTER',
          '    options: { maxuser: 32, codeLength: "six" }',
          '    secrets: { tpiPasword: env:TPI }',
          '',
        ].join('\n'),
      );
      const result = await sandbox.run(['users', 'list', '--panel', 'bergen'], { env: { MASTER: '1234', TPI: 'user' } });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('panel "bergen", field "options.maxuser": unknown option; did you mean maxUsers?');
      expect(result.stderr).toContain('panel "bergen", field "options.codeLength": must be 4 or 6');
      expect(result.stderr).toContain('panel "bergen", field "secrets.tpiPasword": unknown secret; did you mean tpiPassword?');
      expect(panel.connections()).toBe(0);
    } finally {
      await panel.close();
      await sandbox.writeInventory('panels: {}\n');
    }
  });

  it('a tcp link with a path or ?query (a Modbus unit, a baud rate put there) is exit 2 naming where it goes, never ignored, nothing contacted', async () => {
    const panel = await countingServer();
    try {
      for (const after of ['?unit=3', '/unit/3']) {
        const listed = await sandbox.run([
          'users',
          'list',
          '--link',
          `tcp://127.0.0.1:${panel.port}${after}`,
          '--driver',
          'modbus',
          '--option',
          'profile=demo-modbus',
        ]);
        expect(listed.code, `${after}: ${listed.stderr}`).toBe(2);
        expect(listed.stderr).toMatch(/link: a tcp link is tcp:\/\/HOST:PORT only/);
      }
      const probed = await sandbox.run(['probe', `tcp://127.0.0.1:${panel.port}?baud=9600`]);
      expect(probed.code, probed.stderr).toBe(2);
      expect(panel.connections()).toBe(0);
      // A trailing slash is still the address alone.
      const slash = await sandbox.run(['probe', `tcp://127.0.0.1:${panel.port}/`]);
      expect(slash.code).toBe(4);
    } finally {
      await panel.close();
    }
  });
});
