import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, DEMO_PASSWORD, DEMO_USER, type MapSimulator } from '../../drivers/map5000/simulator.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { makeTestPki, type TestPki } from '../support/tls-certs.js';

/**
 * A MAP 5000 panel's TLS files (`tls.ca`, `tls.clientCert`, `tls.clientKey`) are read and checked before the panel is
 * contacted: a file that is not what its field needs is exit 2 naming the field, the file and the rule. A CA file with
 * a certificate that cannot be read was accepted and the command failed later as "server certificate not trusted"
 * (exit 4). The panel is the real simulator behind a loopback relay that counts the connections made to it.
 */

let sim: MapSimulator;
let relay: net.Server;
let pki: TestPki;
let sandbox: Sandbox;
let contacts = 0;
let simCa = '';
/** The relay's open connections, ended before it closes (close() waits for every one). */
const relayed = new Set<net.Socket>();

const BROKEN_CERT = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

function tlsFile(name: string, text: string): string {
  const file = path.join(pki.dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  pki = makeTestPki();
  sandbox = await makeSandbox();
  // Twice the simulator's interval on the panel (each process waits it out after the previous one's last answer,
  // recorded with the panel's work lock), and a short back-off so that a 503 never costs the real minute.
  sim = await createSimulator({ users: 2, options: { intervalMs: 50 } });
  const endpoint = await sim.listen('127.0.0.1', 0);
  simCa = tlsFile('sim-ca.pem', endpoint.certificate);
  relay = net.createServer((socket) => {
    contacts++;
    relayed.add(socket);
    socket.on('close', () => relayed.delete(socket));
    const upstream = net.connect(endpoint.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of relayed) socket.destroy();
  await new Promise<void>((resolve) => relay.close(() => resolve()));
  await sim.close();
  await sandbox.cleanup();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

beforeEach(() => {
  contacts = 0;
});

/** `users list` on a panel with these TLS settings (YAML flow mapping), through the counting relay. */
async function usersList(tls: string) {
  const port = (relay.address() as net.AddressInfo).port;
  await sandbox.writeInventory(
    [
      'panels:',
      '  hq:',
      '    driver: map5000',
      `    link: https://127.0.0.1:${port}`,
      `    tls: { ${tls} }`,
      `    options: { user: ${DEMO_USER}, requestIntervalMs: 100, overloadBackoffMs: 200 }`,
      '    secrets: { password: env:MAP_PASSWORD }',
      '',
    ].join('\n'),
  );
  return sandbox.run(['users', 'list', '--panel', 'hq', '-o', 'json'], { env: { MAP_PASSWORD: DEMO_PASSWORD } });
}

async function expectRefused(tls: string, field: string, file: string, rule: RegExp) {
  const result = await usersList(tls);
  expect(result.code, result.stderr).toBe(2);
  const error = JSON.parse(result.stderr).error;
  expect(error).toMatchObject({ errorCode: 'E_INVALID', field });
  expect(error.message).toContain(`${field}: file ${file} `);
  expect(error.message).toMatch(rule);
  expect(contacts).toBe(0);
}

describe('MAP 5000 TLS files are checked before the panel is contacted', () => {
  it('the simulator own certificate as tls.ca is trusted: the panel is reached (so the counts below are of real contacts)', async () => {
    const result = await usersList(`ca: "${simCa}"`);
    expect(result.code, result.stderr).toBe(0);
    expect(contacts).toBeGreaterThan(0);
  });

  it('tls.ca with a certificate that cannot be read: exit 2 naming the field, the file and the rule (was exit 4, "not trusted")', async () => {
    const broken = tlsFile('broken-ca.pem', BROKEN_CERT);
    await expectRefused(`ca: "${broken}"`, 'tls.ca', broken, /certificate 1 of 1 is not a readable X\.509 certificate/);
    const second = tlsFile('second-broken-ca.pem', fs.readFileSync(simCa, 'utf8') + BROKEN_CERT);
    await expectRefused(`ca: "${second}"`, 'tls.ca', second, /certificate 2 of 2 is not a readable X\.509 certificate/);
  });

  it('tls.ca holding a private key (a key given for the CA), with or without a certificate: exit 2', async () => {
    const keyOnly = tlsFile('key-as-ca.pem', fs.readFileSync(pki.client.key, 'utf8'));
    await expectRefused(`ca: "${keyOnly}"`, 'tls.ca', keyOnly, /must be a PEM file of one or more certificates \(BEGIN CERTIFICATE\)/);
    const keyAndCert = tlsFile('key-and-ca.pem', fs.readFileSync(pki.client.key, 'utf8') + fs.readFileSync(simCa, 'utf8'));
    await expectRefused(`ca: "${keyAndCert}"`, 'tls.ca', keyAndCert, /holds a private key/);
  });

  it('tls.ca empty or garbage: exit 2 naming the file', async () => {
    const empty = tlsFile('empty-ca.pem', '');
    await expectRefused(`ca: "${empty}"`, 'tls.ca', empty, /must be a PEM file of one or more certificates/);
    const garbage = tlsFile('garbage-ca.pem', 'not a certificate at all\n');
    await expectRefused(`ca: "${garbage}"`, 'tls.ca', garbage, /must be a PEM file of one or more certificates/);
  });

  it('tls.clientCert that cannot be read, and tls.clientKey that is no key or not the certificate key: exit 2 naming the field and file', async () => {
    const brokenCert = tlsFile('broken-client.pem', BROKEN_CERT);
    await expectRefused(
      `ca: "${simCa}", clientCert: "${brokenCert}", clientKey: "${pki.client.key}"`,
      'tls.clientCert',
      brokenCert,
      /certificate 1 of 1 is not a readable X\.509 certificate/,
    );
    const junkKey = tlsFile('junk.key', 'not a key\n');
    await expectRefused(`ca: "${simCa}", clientCert: "${pki.client.cert}", clientKey: "${junkKey}"`, 'tls.clientKey', junkKey, /unencrypted PEM private key/);
    await expectRefused(
      `ca: "${simCa}", clientCert: "${pki.client.cert}", clientKey: "${pki.rogueClient.key}"`,
      'tls.clientKey',
      pki.rogueClient.key,
      /is not the key of the certificate in tls\.clientCert/,
    );
  });
});
