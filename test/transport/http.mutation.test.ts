import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsError, UnreachableError } from '../../src/core/errors.js';
import { parseLink, type TlsSettings, withTls } from '../../src/core/link.js';
import { type HttpClientOptions, openHttp } from '../../src/transport/http.js';
import { loopbackServers } from '../support/loopback-servers.js';
import { failure } from '../support/failure.js';
import { datedServerCert, makeTestPki, startOpensslServer, type TestPki } from '../support/tls-certs.js';

// The HTTP(S) transport rule by rule (issue 21 mutation floor): http.test.ts covers each kind of failure once;
// here the request as the panel receives it, the bounds, cancelling at each stage, every E_TLS reason and hint,
// and the TLS files' field names are pinned one at a time, against real servers on loopback.

let pki: TestPki;
let opensslServer: { port: number; stop: () => void } | undefined;
const { listen } = loopbackServers();
const ports: Record<string, number> = {};
/** What the servers received, newest last. */
const received: Array<{
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  alpn?: string | false | null;
  servername?: string | false | null;
}> = [];

/** /echo answers what it received; /text is not JSON; /bytes/N is N bytes; /hang never answers; /partial dies mid-body; /close hangs up. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const socket = req.socket as tls.TLSSocket;
    const seen = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      alpn: socket.alpnProtocol,
      servername: socket.servername,
    };
    received.push(seen);
    const url = req.url ?? '';
    if (url.endsWith('/text')) return void res.end('plain words');
    const size = /\/bytes\/(\d+)$/.exec(url)?.[1];
    if (size) return void res.end(Buffer.alloc(Number(size), 0x61));
    if (url.endsWith('/hang')) return;
    if (url.endsWith('/partial')) {
      res.writeHead(200, { 'content-length': '100' });
      res.write('0123456789');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (url.endsWith('/close')) return void req.socket.destroy();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: seen.method, url: seen.url, body: seen.body }));
  });
}

beforeAll(async () => {
  pki = makeTestPki();
  const read = (file: string) => fs.readFileSync(file);
  ports.plain = await listen(http.createServer(handler));
  ports.tls = await listen(https.createServer({ cert: read(pki.server.cert), key: read(pki.server.key), ALPNProtocols: ['http/1.1'] }, handler));
  const expired = datedServerCert(pki, 'expired', '20200101000000Z', '20200201000000Z');
  ports.expired = await listen(https.createServer({ cert: read(expired.cert), key: read(expired.key) }, handler));
  const future = datedServerCert(pki, 'future', '20990101000000Z', '20990201000000Z');
  ports.future = await listen(https.createServer({ cert: read(future.cert), key: read(future.key) }, handler));
  ports.mutual = await listen(
    https.createServer(
      { cert: read(pki.server.cert), key: read(pki.server.key), ca: read(pki.clientCa), requestCert: true, rejectUnauthorized: true },
      handler,
    ),
  );
  // TLS 1.2 answers a missing client certificate, and a handshake it cannot agree on, with the same handshake_failure alert.
  ports.mutual12 = await listen(
    https.createServer(
      { cert: read(pki.server.cert), key: read(pki.server.key), ca: read(pki.clientCa), requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' },
      handler,
    ),
  );
  ports.noCommonCipher = await listen(
    https.createServer({ cert: read(pki.server.cert), key: read(pki.server.key), maxVersion: 'TLSv1.2', ciphers: 'PSK-AES128-CBC-SHA' }, handler),
  );
  // Takes the TLS ClientHello, then resets the connection, or closes it: the link is lost mid-handshake.
  ports.resetInHandshake = await listen(net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy())));
  ports.closeInHandshake = await listen(net.createServer((socket) => socket.once('data', () => socket.end())));
  ports.silent = await listen(net.createServer(() => undefined));
  opensslServer = await startOpensslServer(pki);
  ports.openssl = opensslServer.port;
}, 60_000);

afterAll(() => {
  opensslServer?.stop();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

const base = (name: string, scheme = 'http') => `${scheme}://127.0.0.1:${ports[name]}`;
const client = (url: string, options: Partial<HttpClientOptions> = {}, tls?: TlsSettings) =>
  openHttp(withTls(parseLink(url), tls, 'panel "test"'), { timeoutMs: 5000, ...options });

describe('the request as the panel receives it', () => {
  it('GET by default, under the base path, with connection: close and no body', async () => {
    const http1 = await client(`${base('plain')}/api`);
    const response = await http1.request({ path: '/echo' });
    expect(response.json()).toEqual({ method: 'GET', url: '/api/echo', body: '' });
    const seen = received.at(-1);
    expect(seen?.headers.connection).toBe('close');
    expect(seen?.headers['content-length']).toBeUndefined();
    expect(http1.description).toBe(`${base('plain')}/api`);
  });

  it('sends a text body or a byte body with its length, the method and the headers given', async () => {
    const http1 = await client(base('plain'));
    const text = await http1.request({ method: 'PUT', path: '/echo', body: 'é1', headers: { 'x-panel': 'a' } });
    expect(text.json()).toEqual({ method: 'PUT', url: '/echo', body: 'é1' });
    expect(received.at(-1)?.headers).toMatchObject({ 'content-length': '3', 'x-panel': 'a', connection: 'close' });
    const bytes = await http1.request({ method: 'POST', path: '/echo', body: new Uint8Array([0x7b, 0x7d]) });
    expect(bytes.json()).toEqual({ method: 'POST', url: '/echo', body: '{}' });
    expect(received.at(-1)?.headers['content-length']).toBe('2');
  });

  it('offers http/1.1 by ALPN and names the host by SNI, but never an address', async () => {
    expect((await (await client(base('tls', 'https'), {}, { ca: pki.ca })).request({ path: '/echo' })).status).toBe(200);
    expect(received.at(-1)).toMatchObject({ alpn: 'http/1.1', servername: false });
    expect((await (await client(`https://localhost:${ports.tls}`, {}, { ca: pki.ca })).request({ path: '/echo' })).status).toBe(200);
    expect(received.at(-1)?.servername).toBe('localhost');
  });

  it('traces the method, path and status only', async () => {
    const lines: string[] = [];
    const http1 = await client(`${base('plain')}/api`, { trace: (direction, text) => lines.push(`${direction} ${text}`) });
    await http1.request({ path: '/echo', headers: { authorization: 'Digest secret' }, body: 'code=1234' });
    await http1.request({ method: 'DELETE', path: '/bytes/7' });
    expect(lines).toEqual(['tx GET /api/echo', 'rx 200 (53 bytes)', 'tx DELETE /api/bytes/7', 'rx 200 (7 bytes)']);
  });
});

describe('the answer', () => {
  it('gives the status, headers, body and text', async () => {
    const response = await (await client(base('plain'))).request({ path: '/text' });
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe('11');
    expect(response.body).toEqual(Buffer.from('plain words'));
    expect(response.text()).toBe('plain words');
  });

  it('an answer that is not JSON is a protocol error naming the question', async () => {
    const response = await (await client(base('plain'))).request({ method: 'POST', path: '/text' });
    expect(() => response.json()).toThrow(expect.objectContaining({ exitCode: 5, message: `the answer from ${base('plain')} to POST /text is not JSON` }));
    const get = await (await client(base('plain'))).request({ path: '/text' });
    expect(() => get.json()).toThrow(`the answer from ${base('plain')} to GET /text is not JSON`);
  });

  it('reads a body of exactly the limit, and refuses one byte more (E_TOO_LARGE, exit 5)', async () => {
    const http1 = await client(base('plain'), { maxBodyBytes: 5000 });
    expect((await http1.request({ path: '/bytes/5000' })).body).toHaveLength(5000);
    const error = await failure(http1.request({ path: '/bytes/5001' }));
    expect(error).toMatchObject({ exitCode: 5, code: 'E_TOO_LARGE', message: `the answer from ${base('plain')} is larger than 5000 bytes` });
  });

  it('the limit is 4 MiB unless set', async () => {
    const http1 = await client(base('plain'));
    expect((await http1.request({ path: `/bytes/${4 * 1024 * 1024}` })).body).toHaveLength(4 * 1024 * 1024);
    expect(await failure(http1.request({ path: `/bytes/${4 * 1024 * 1024 + 1}` }))).toMatchObject({ code: 'E_TOO_LARGE' });
  });

  it('a connection closed without an answer, or in the middle of one, is E_LOST with the reason', async () => {
    const closed = await failure((await client(base('plain'))).request({ path: '/close' }));
    // node:http gives a hang-up the code ECONNRESET too: the message tells it from a reset.
    expect(closed).toMatchObject({
      code: 'E_LOST',
      exitCode: 4,
      message: `lost the connection to ${base('plain')}: the panel closed the connection without answering`,
    });
    expect(closed.cause).toMatchObject({ code: 'ECONNRESET' });
    const partial = await failure((await client(base('plain'))).request({ path: '/partial' }));
    expect(partial).toMatchObject({ code: 'E_LOST', exitCode: 4, message: `lost the connection to ${base('plain')} in the middle of its answer` });
  });

  it('over TLS, a connection closed without an answer is E_LOST too, not a TLS failure', async () => {
    const closed = await failure((await client(base('tls', 'https'), {}, { ca: pki.ca })).request({ path: '/close' }));
    expect(closed).not.toBeInstanceOf(TlsError);
    expect(closed).toMatchObject({
      code: 'E_LOST',
      message: `lost the connection to ${base('tls', 'https')}: the panel closed the connection without answering`,
    });
  });
});

describe('cancelling', () => {
  const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

  it('a signal already aborted: E_ABORTED, not transient, nothing sent', async () => {
    const before = received.length;
    const error = await failure((await client(base('plain'), { signal: AbortSignal.abort() })).request({ path: '/echo' }));
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error).toMatchObject({ code: 'E_ABORTED', message: 'cancelled', transient: false });
    expect(received.length).toBe(before);
  });

  it('while connecting or in the handshake', async () => {
    const controller = new AbortController();
    const pending = failure((await client(base('silent', 'https'), { signal: controller.signal })).request({ path: '/echo' }));
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toMatchObject({ code: 'E_ABORTED', message: 'cancelled', transient: false });
    expect(listeners(controller.signal)).toBe(0);
  });

  it('while waiting for the answer', async () => {
    const controller = new AbortController();
    const pending = failure((await client(base('plain'), { signal: controller.signal })).request({ path: '/hang' }));
    setTimeout(() => controller.abort(), 100);
    expect(await pending).toMatchObject({ code: 'E_ABORTED', message: 'cancelled', transient: false });
    expect(listeners(controller.signal)).toBe(0);
  });

  it('leaves no listener on the signal after an answer or a failure', async () => {
    const controller = new AbortController();
    const http1 = await client(base('tls', 'https'), { signal: controller.signal }, { ca: pki.ca });
    await http1.request({ path: '/echo' });
    expect(listeners(controller.signal)).toBe(0);
    await failure((await client(base('silent'), { signal: controller.signal, timeoutMs: 100 })).request({ path: '/echo' }));
    expect(listeners(controller.signal)).toBe(0);
  });
});

describe('deadlines', () => {
  it('name the stage that took too long', async () => {
    const handshake = await failure((await client(base('silent', 'https'), { timeoutMs: 150 })).request({ path: '/' }));
    expect(handshake).toMatchObject({ code: 'E_TIMEOUT', message: `cannot reach ${base('silent', 'https')}: no connection within 150 ms` });
    const answer = await failure((await client(base('plain'), { timeoutMs: 5000 })).request({ path: '/hang', timeoutMs: 150 }));
    expect(answer).toMatchObject({ code: 'E_TIMEOUT', message: `no answer from ${base('plain')} within 150 ms` });
  });
});

describe('E_TLS: whose certificate, and why', () => {
  it('a link lost during the handshake, reset or closed, is E_LOST and not a TLS refusal', async () => {
    for (const name of ['resetInHandshake', 'closeInHandshake']) {
      const error = await failure((await client(base(name, 'https'))).request({ path: '/' }));
      expect(error, name).not.toBeInstanceOf(TlsError);
      expect(error, name).toMatchObject({
        code: 'E_LOST',
        exitCode: 4,
        message: `lost the connection to ${base(name, 'https')} during the TLS handshake: the panel closed or reset it`,
      });
      expect(error.cause, name).toMatchObject({ code: 'ECONNRESET' });
    }
  });

  it('an expired certificate, and one not valid yet, say so', async () => {
    const expired = await failure((await client(base('expired', 'https'), {}, { ca: pki.ca })).request({ path: '/' }));
    expect(expired).toMatchObject({ code: 'E_TLS', side: 'server' });
    expect(expired.message).toMatch(/is not trusted: it has expired \(CERT_HAS_EXPIRED; SHA-256 fingerprint [0-9A-F:]{95}\)$/);
    expect(expired.hint).toBe('give the CA that signed it (tls: { ca: FILE }) or pin the panel certificate (tls: { fingerprint: ... }) in the inventory');
    const future = await failure((await client(base('future', 'https'), {}, { ca: pki.ca })).request({ path: '/' }));
    expect(future.message).toMatch(/is not trusted: it is not valid yet \(check the clocks\) \(CERT_NOT_YET_VALID; /);
  });

  it('a pin that does not match says what to check before pinning again', async () => {
    const error = await failure((await client(base('tls', 'https'), {}, { fingerprint: pki.selfSigned.fingerprint })).request({ path: '/' }));
    expect(error.hint).toBe(
      `the panel presented another certificate than tls.fingerprint (${pki.selfSigned.fingerprint}): if it was replaced on purpose, check the new fingerprint on the panel itself before pinning it; otherwise something is in between`,
    );
  });

  it('a panel that wants a client certificate and gets none: the client side, with what to add', async () => {
    const error = await failure((await client(base('mutual', 'https'), {}, { ca: pki.ca })).request({ path: '/' }));
    expect(error).toMatchObject({ side: 'client', hint: 'add tls: { clientCert: FILE, clientKey: FILE } to this panel in the inventory' });
    expect(error.message).toMatch(new RegExp(`^client certificate: ${base('mutual', 'https')} asks for one and none is configured \\((ERR_SSL_|ECONNRESET)`));
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('TLS 1.2: a handshake failure with no client certificate configured is the panel asking for one', async () => {
    const error = await failure((await client(base('mutual12', 'https'), {}, { ca: pki.ca })).request({ path: '/' }));
    expect(error).toMatchObject({
      side: 'client',
      message: `client certificate: ${base('mutual12', 'https')} asks for one and none is configured (ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE)`,
    });
  });

  it('TLS 1.2: a handshake failure with a client certificate configured is not blamed on it', async () => {
    const tls = { ca: pki.ca, clientCert: pki.client.cert, clientKey: pki.client.key };
    const error = await failure((await client(base('noCommonCipher', 'https'), {}, tls)).request({ path: '/' }));
    expect(error).toMatchObject({ side: 'handshake', hint: undefined });
    expect(error.message).toMatch(new RegExp(`^TLS handshake with ${base('noCommonCipher', 'https')} failed: .*handshake failure`));
  });

  it('a client certificate the panel does not trust: refused, with what to check', async () => {
    const tls = { ca: pki.ca, clientCert: pki.rogueClient.cert, clientKey: pki.rogueClient.key };
    const error = await failure((await client(base('openssl', 'https'), {}, tls)).request({ path: '/' }));
    expect(error).toMatchObject({
      side: 'client',
      hint: 'the panel does not accept tls.clientCert: check that it was issued by a CA the panel trusts and has not expired',
    });
    expect(error.message).toMatch(new RegExp(`^client certificate refused by ${base('openssl', 'https')} \\(ERR_SSL_`));
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('plain http on an https link: the handshake side, saying the other end does not speak TLS', async () => {
    const error = await failure((await client(base('plain', 'https'))).request({ path: '/' }));
    expect(error).toMatchObject({
      side: 'handshake',
      message: `TLS handshake with ${base('plain', 'https')} failed: the other end does not speak TLS`,
      hint: 'the panel may serve plain http:// on this port',
    });
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('TLS files (exit 2 before anything is contacted)', () => {
  const write = (name: string, text: string) => {
    const file = path.join(pki.dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const open = (tls: TlsSettings) => failure(client(base('tls', 'https'), {}, tls));

  it('names the field of a missing file', async () => {
    const missing = path.join(pki.dir, 'missing.pem');
    expect((await open({ clientCert: missing, clientKey: pki.client.key })).message).toBe(`tls.clientCert: file ${missing} does not exist`);
    expect((await open({ clientCert: pki.client.cert, clientKey: missing })).message).toBe(`tls.clientKey: file ${missing} does not exist`);
  });

  it('a CA or client certificate file that is not PEM certificates', async () => {
    const junk = write('junk.pem', 'not a certificate\n');
    expect(await open({ ca: junk })).toMatchObject({
      exitCode: 2,
      message: `tls.ca: file ${junk} must be a PEM file of one or more certificates (BEGIN CERTIFICATE)`,
      field: 'tls.ca',
    });
    expect(await open({ clientCert: junk, clientKey: pki.client.key })).toMatchObject({
      exitCode: 2,
      message: `tls.clientCert: file ${junk} must be a PEM certificate (BEGIN CERTIFICATE)`,
      field: 'tls.clientCert',
    });
  });

  // Not PEM, not a key, or encrypted (no passphrase is ever asked for): all name tls.clientKey and its file.
  it('a client key that is not a PEM key, or is encrypted, names tls.clientKey', async () => {
    const junk = write('junk.key', 'not a key\n');
    const rule = 'must be an unencrypted PEM private key (BEGIN PRIVATE KEY)';
    expect(await open({ clientCert: pki.client.cert, clientKey: junk })).toMatchObject({ exitCode: 2, message: `tls.clientKey: file ${junk} ${rule}` });
    const encrypted = path.join(pki.dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', pki.client.key, '-aes256', '-passout', 'pass:x', '-out', encrypted], { stdio: 'ignore' });
    fs.chmodSync(encrypted, 0o600);
    expect(await open({ clientCert: pki.client.cert, clientKey: encrypted })).toMatchObject({
      exitCode: 2,
      message: `tls.clientKey: file ${encrypted} ${rule}`,
    });
    const certAsKey = write('cert-as.key', fs.readFileSync(pki.client.cert, 'utf8'));
    expect(await open({ clientCert: pki.client.cert, clientKey: certAsKey })).toMatchObject({
      exitCode: 2,
      message: `tls.clientKey: file ${certAsKey} ${rule}`,
    });
  });

  it('a client certificate, or one of its chain, that cannot be read names tls.clientCert and which one, also next to a good tls.ca', async () => {
    const brokenBlock = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const broken = write('broken.pem', brokenBlock);
    for (const tls of [
      { clientCert: broken, clientKey: pki.client.key },
      { ca: pki.ca, clientCert: broken, clientKey: pki.client.key },
    ]) {
      expect(await open(tls)).toMatchObject({
        exitCode: 2,
        message: `tls.clientCert: file ${broken} must be a PEM certificate (BEGIN CERTIFICATE): certificate 1 of 1 is not a readable X.509 certificate`,
      });
    }
    const chain = write('broken-chain.pem', fs.readFileSync(pki.client.cert, 'utf8') + brokenBlock);
    expect((await open({ clientCert: chain, clientKey: pki.client.key })).message).toMatch(/: certificate 2 of 2 is not a readable X\.509 certificate$/);
  });

  // OpenSSL skips a CA certificate it cannot read: the command failed later as "server certificate not trusted" (exit 4).
  it('a CA file with a certificate that cannot be read, or with a private key in it, names tls.ca and its file', async () => {
    const brokenBlock = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const broken = write('broken-ca.pem', `${fs.readFileSync(pki.ca, 'utf8')}${brokenBlock}`);
    expect(await open({ ca: broken })).toMatchObject({
      exitCode: 2,
      field: 'tls.ca',
      message: `tls.ca: file ${broken} must be a PEM file of one or more certificates (BEGIN CERTIFICATE): certificate 2 of 2 is not a readable X.509 certificate`,
    });
    for (const label of ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY']) {
      const withKey = write('ca-with-key.pem', `${fs.readFileSync(pki.ca, 'utf8')}-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`);
      expect(await open({ ca: withKey })).toMatchObject({
        exitCode: 2,
        message: `tls.ca: file ${withKey} holds a private key: it must hold only certificates (BEGIN CERTIFICATE), never a key`,
      });
    }
    // Text around the blocks (a bundle's comments) is fine: the CA is read and used.
    const commented = write('commented-ca.pem', `# desk CA\n${fs.readFileSync(pki.ca, 'utf8')}`);
    expect((await (await client(base('tls', 'https'), {}, { ca: commented })).request({ path: '/echo' })).status).toBe(200);
  });

  it('blocks of other kinds (a public key) are not certificates: a file of only those is refused, and they are not counted', async () => {
    const publicKey = createPublicKey(fs.readFileSync(pki.client.key)).export({ type: 'spki', format: 'pem' }).toString();
    const onlyKey = write('public-key.pem', publicKey);
    expect(await open({ ca: onlyKey })).toMatchObject({
      exitCode: 2,
      message: `tls.ca: file ${onlyKey} must be a PEM file of one or more certificates (BEGIN CERTIFICATE)`,
    });
    expect(await open({ clientCert: onlyKey, clientKey: pki.client.key })).toMatchObject({
      exitCode: 2,
      message: `tls.clientCert: file ${onlyKey} must be a PEM certificate (BEGIN CERTIFICATE)`,
    });
    const brokenBlock = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const mixed = write('mixed-ca.pem', `${publicKey}${fs.readFileSync(pki.ca, 'utf8')}${brokenBlock}`);
    expect((await open({ ca: mixed })).message).toMatch(/: certificate 2 of 2 is not a readable X\.509 certificate$/);
    // Beside its certificates, a public key is passed over: the CA is read and used.
    const withPublicKey = write('ca-and-public-key.pem', `${publicKey}${fs.readFileSync(pki.ca, 'utf8')}`);
    expect((await (await client(base('tls', 'https'), {}, { ca: withPublicKey })).request({ path: '/echo' })).status).toBe(200);
  });

  it('a client certificate OpenSSL refuses after every check passed (a 512-bit RSA key) names tls.clientCert, its file and why', async () => {
    const key = path.join(pki.dir, 'weak.key');
    const cert = path.join(pki.dir, 'weak.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:512', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=weak'], {
      stdio: 'ignore',
    });
    fs.chmodSync(key, 0o600);
    fs.chmodSync(cert, 0o600);
    const error = await open({ ca: pki.ca, clientCert: cert, clientKey: key });
    expect(error).toMatchObject({ exitCode: 2, field: 'tls.clientCert' });
    expect(error.message).toMatch(new RegExp(`^tls\\.clientCert: file ${cert} cannot be used: .*ee key too small$`));
  });

  it('a tcp link is refused naming the link', async () => {
    expect(await failure(openHttp(parseLink('tcp://127.0.0.1:1'), { timeoutMs: 100 }))).toMatchObject({
      exitCode: 2,
      message: "link: this panel's driver talks over http:// or https://, not tcp://",
    });
  });
});
