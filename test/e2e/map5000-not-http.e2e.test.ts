import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

/**
 * A MAP 5000 panel whose HTTPS port answers with something that is not HTTP (another service's banner, binary bytes)
 * is a protocol error (exit 5), said in a few safe words, not a lost link (exit 4): the link works, the answer is
 * wrong. A peer that closes or resets without a byte stays exit 4. Real TLS servers on loopback, trusted by tls.ca.
 */

let pki: TestPki;
let sandbox: Sandbox;
const servers: tls.Server[] = [];

async function serveTls(onRequest: (socket: net.Socket) => void): Promise<number> {
  const server = tls.createServer({ cert: fs.readFileSync(pki.server.cert), key: fs.readFileSync(pki.server.key) }, (socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => onRequest(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  pki = makeTestPki();
  sandbox = await makeSandbox();
  const ports = {
    banner: await serveTls((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n')),
    garbage: await serveTls((socket) => socket.end(Buffer.from([0, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x1b, 0x5d, 0x30, 0x3b, 0x58, 7]))),
    hangUp: await serveTls((socket) => socket.end()),
    reset: await serveTls((socket) => socket.destroy()),
  };
  const panel = (name: string, port: number) => [
    `  ${name}:`,
    '    driver: map5000',
    `    link: https://127.0.0.1:${port}`,
    `    tls: { ca: "${pki.ca}" }`,
    '    options: { user: panelctl-demo, requestIntervalMs: 50 }',
    '    secrets: { password: env:MAP_PASSWORD }',
  ];
  await sandbox.writeInventory(['panels:', ...Object.entries(ports).flatMap(([name, port]) => panel(name, port)), ''].join('\n'));
});

afterAll(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  await sandbox.cleanup();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

const usersList = (panel: string, json = false) =>
  sandbox.run(['users', 'list', '--panel', panel, ...(json ? ['-o', 'json'] : [])], { env: { MAP_PASSWORD: 'a-rest-password' } });

describe('MAP 5000: an HTTPS port that does not answer HTTP', () => {
  it('a service banner: exit 5, E_PROTOCOL, "is not HTTP", the banner not echoed (was exit 4, E_LOST)', async () => {
    const result = await usersList('banner', true);
    expect(result.code, result.stderr).toBe(5);
    expect(JSON.parse(result.stderr).error).toMatchObject({ errorCode: 'E_PROTOCOL' });
    expect(result.stderr).toMatch(/is not HTTP/);
    expect(result.stderr).not.toContain('SSH-2.0');
  });

  it('binary bytes with terminal escapes: exit 5, and none of them reach the terminal', async () => {
    const result = await usersList('garbage');
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/is not HTTP/);
    expect(result.stderr).not.toMatch(/\x1b|\x07|\x00/);
  });

  it('closed or reset before a byte of answer: still exit 4 (lost, not a protocol error)', async () => {
    for (const panel of ['hangUp', 'reset']) {
      const result = await usersList(panel, true);
      expect(result.code, `${panel}: ${result.stderr}`).toBe(4);
      expect(JSON.parse(result.stderr).error.errorCode).toBe('E_LOST');
    }
  });
});
