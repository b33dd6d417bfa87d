import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, TlsError } from '../../src/core/errors.js';
import { parseLink, type TlsSettings, withTls } from '../../src/core/link.js';
import { openHttp } from '../../src/transport/http.js';
import { loopbackServers } from '../support/loopback-servers.js';
import { failure } from '../support/failure.js';
import { makeTestPki, startOpensslServer, type TestPki } from '../support/tls-certs.js';

/** Real servers on loopback: plain HTTP, HTTPS with a CA-signed or a self-signed certificate, mutual TLS. */
let pki: TestPki;
const { listen } = loopbackServers();
let opensslServer: { port: number; stop: () => void } | undefined;
/** Requests each server saw: a refused certificate must mean no request reached the panel. */
const seen: string[] = [];

const answer = (name: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
  seen.push(`${name} ${req.method} ${req.url}`);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ server: name, path: req.url }));
};

function httpsServer(name: string, options: https.ServerOptions): Promise<number> {
  return listen(https.createServer(options, answer(name)));
}

const ports: Record<string, number> = {};

beforeAll(async () => {
  pki = makeTestPki();
  const read = (file: string) => fs.readFileSync(file);
  ports.plain = await listen(http.createServer(answer('plain')));
  ports.signed = await httpsServer('signed', { cert: read(pki.server.cert), key: read(pki.server.key) });
  ports.self = await httpsServer('self', { cert: read(pki.selfSigned.cert), key: read(pki.selfSigned.key) });
  ports.otherName = await httpsServer('other', { cert: read(pki.otherName.cert), key: read(pki.otherName.key) });
  ports.mutual = await httpsServer('mutual', {
    cert: read(pki.server.cert),
    key: read(pki.server.key),
    ca: read(pki.clientCa),
    requestCert: true,
    rejectUnauthorized: true,
  });
  opensslServer = await startOpensslServer(pki);
  ports.openssl = opensslServer.port;
  // Accepts the connection and never says a word (no TLS handshake, no HTTP answer).
  ports.silent = await listen(net.createServer(() => undefined));
  // Reads the request, then resets the connection.
  ports.reset = await listen(net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy())));
  // Answer with something that is not HTTP: a service banner at once, or binary bytes after the request.
  ports.banner = await listen(net.createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n')));
  ports.garbage = await listen(net.createServer((socket) => socket.once('data', () => socket.end(Buffer.from([0, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 7])))));
  // An answer that starts as HTTP and then breaks its own framing.
  ports.badChunk = await listen(
    net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc'))),
  );
  // Reads the request, then closes without a byte.
  ports.hangUp = await listen(net.createServer((socket) => socket.once('data', () => socket.end())));
  // Nothing listens on port 1. Not a port freed a moment ago: a simulator of another test file running in parallel
  // may be given that one, and this test's request would then hold that panel (one client at a time) for seconds.
  ports.closed = 1;
});

afterAll(() => {
  opensslServer?.stop();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

function client(url: string, tls?: TlsSettings, timeoutMs = 5000) {
  return openHttp(withTls(parseLink(url), tls, 'panel "test"'), { timeoutMs });
}

async function get(url: string, tls?: TlsSettings, timeoutMs?: number) {
  return (await client(url, tls, timeoutMs)).request({ path: '/api/info' });
}

describe('HTTP(S) client: answers', () => {
  it('sends a request over plain http and reads a JSON answer under the base path', async () => {
    const response = await get(`http://127.0.0.1:${ports.plain}/base`);
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ server: 'plain', path: '/base/api/info' });
  });

  it('trusts a certificate signed by the CA in tls.ca, and checks the host name against it', async () => {
    expect((await get(`https://127.0.0.1:${ports.signed}`, { ca: pki.ca })).json()).toMatchObject({ server: 'signed' });
    expect((await get(`https://localhost:${ports.signed}`, { ca: pki.ca })).json()).toMatchObject({ server: 'signed' });
  });

  it('trusts a self-signed certificate whose SHA-256 fingerprint is pinned, in any usual spelling', async () => {
    const pin = pki.selfSigned.fingerprint;
    expect((await get(`https://127.0.0.1:${ports.self}`, { fingerprint: pin })).json()).toMatchObject({ server: 'self' });
    const bare = `sha256:${pin.replaceAll(':', '').toLowerCase()}`;
    expect((await get(`https://127.0.0.1:${ports.self}`, { fingerprint: bare })).json()).toMatchObject({ server: 'self' });
  });

  it('presents the client certificate to a panel that asks for one', async () => {
    const tls = { ca: pki.ca, clientCert: pki.client.cert, clientKey: pki.client.key };
    expect((await get(`https://127.0.0.1:${ports.mutual}`, tls)).json()).toMatchObject({ server: 'mutual' });
  });
});

describe('HTTP(S) client: failures are the typed errors and exit codes of TCP', () => {
  it('cancelled between connecting and sending (a trace callback, Ctrl-C): E_ABORTED, and nothing is thrown past the caller', async () => {
    const controller = new AbortController();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const http = await openHttp(parseLink(`http://127.0.0.1:${ports.plain}`), {
        timeoutMs: 5000,
        signal: controller.signal,
        trace: () => controller.abort(),
      });
      const error = await failure(http.request({ path: '/api/info' }));
      expect(error).toMatchObject({ code: 'E_ABORTED' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('connection refused: E_REFUSED, exit 4', async () => {
    const error = await failure(get(`http://127.0.0.1:${ports.closed}`));
    expect(error).toMatchObject({ code: 'E_REFUSED', exitCode: ExitCode.unreachable });
    expect(error.message).toMatch(/connection refused/);
  });

  it('a host name that does not resolve: E_CONNECT, exit 4', async () => {
    const error = await failure(get('https://panel.invalid'));
    expect(error).toMatchObject({ code: 'E_CONNECT', exitCode: ExitCode.unreachable });
    expect(error.message).toMatch(/host name/);
  });

  it('no TLS handshake within the timeout: E_TIMEOUT, exit 4', async () => {
    const error = await failure(get(`https://127.0.0.1:${ports.silent}`, undefined, 300));
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: ExitCode.unreachable });
    expect(error.message).toMatch(/no connection within/);
  });

  it('no HTTP answer within the timeout: E_TIMEOUT, exit 4', async () => {
    const error = await failure(get(`http://127.0.0.1:${ports.silent}`, undefined, 300));
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: ExitCode.unreachable });
    expect(error.message).toMatch(/no answer from http:\/\/127\.0\.0\.1:\d+ within/);
  });

  it('the connection reset after the request: E_LOST, exit 4', async () => {
    const error = await failure(get(`http://127.0.0.1:${ports.reset}`));
    expect(error).toMatchObject({ code: 'E_LOST', exitCode: ExitCode.unreachable });
    expect(error.message).toMatch(/reset/);
  });

  it('closed without a byte of answer: E_LOST, exit 4 (silence is not a protocol error)', async () => {
    const error = await failure(get(`http://127.0.0.1:${ports.hangUp}`));
    expect(error).toMatchObject({ code: 'E_LOST', exitCode: ExitCode.unreachable });
  });

  it('an answer that is not HTTP (a banner, binary bytes): E_PROTOCOL, exit 5, without echoing what came', async () => {
    for (const port of [ports.banner, ports.garbage]) {
      const error = await failure(get(`http://127.0.0.1:${port}`));
      expect(error).toMatchObject({ code: 'E_PROTOCOL', exitCode: ExitCode.protocol, message: `the answer from http://127.0.0.1:${port} is not HTTP` });
      expect(error.hint).toMatch(/another service may be listening on this port/);
      expect(error.data).toEqual({ parseError: expect.stringMatching(/^HPE_INVALID_(CONSTANT|VERSION|STATUS)$/) });
      expect(JSON.stringify(error.data ?? {})).not.toMatch(/SSH|\\u001b/);
    }
  });

  it('an HTTP answer that breaks its framing: E_PROTOCOL, exit 5, saying what broke', async () => {
    const error = await failure(get(`http://127.0.0.1:${ports.badChunk}`));
    expect(error).toMatchObject({ code: 'E_PROTOCOL', exitCode: ExitCode.protocol });
    expect(error.message).toBe(`the answer from http://127.0.0.1:${ports.badChunk} is not valid HTTP: invalid character in chunk size`);
    expect(error.data).toEqual({ parseError: 'HPE_INVALID_CHUNK_SIZE' });
  });

  it('a self-signed certificate without a pin is refused, naming the fingerprint to check and pin', async () => {
    const before = seen.length;
    const error = await failure(get(`https://127.0.0.1:${ports.self}`));
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ code: 'E_TLS', exitCode: ExitCode.unreachable, side: 'server' });
    expect(error.message).toMatch(/^server certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted: it is self-signed/);
    expect(error.message).toContain(pki.selfSigned.fingerprint);
    expect(error.hint).toContain(`tls: { fingerprint: "${pki.selfSigned.fingerprint}" }`);
    expect(seen.length).toBe(before); // nothing was sent to the panel
  });

  it('a pinned fingerprint that does not match is refused, naming the fingerprint seen, before any request', async () => {
    const before = seen.length;
    const error = await failure(get(`https://127.0.0.1:${ports.signed}`, { fingerprint: pki.selfSigned.fingerprint }));
    expect(error).toMatchObject({ code: 'E_TLS', exitCode: ExitCode.unreachable, side: 'server', data: { fingerprint: pki.server.fingerprint } });
    expect(error.message).toContain(`is not the pinned one: its SHA-256 fingerprint is ${pki.server.fingerprint}`);
    expect(seen.length).toBe(before);
  });

  it('a certificate the CA in tls.ca did not sign, or signed for another name, is refused as the server certificate', async () => {
    const unsigned = await failure(get(`https://127.0.0.1:${ports.self}`, { ca: pki.ca }));
    expect(unsigned).toMatchObject({ code: 'E_TLS', side: 'server' });
    const misnamed = await failure(get(`https://127.0.0.1:${ports.otherName}`, { ca: pki.ca }));
    expect(misnamed).toMatchObject({ code: 'E_TLS', side: 'server' });
    expect(misnamed.message).toMatch(/is not trusted: it is not issued for 127\.0\.0\.1/);
  });

  it('a panel that asks for a client certificate, when none is configured: E_TLS on the client side', async () => {
    const before = seen.length;
    const error = await failure(get(`https://127.0.0.1:${ports.mutual}`, { ca: pki.ca }));
    expect(error).toMatchObject({ code: 'E_TLS', exitCode: ExitCode.unreachable, side: 'client' });
    expect(error.message).toMatch(/^client certificate: .* asks for one and none is configured/);
    expect(seen.length).toBe(before);
    // The same from an OpenSSL server (TLS 1.3: its verdict arrives after the client's handshake, as an alert).
    const fromOpenssl = await failure(get(`https://127.0.0.1:${ports.openssl}`, { ca: pki.ca }));
    expect(fromOpenssl).toMatchObject({ code: 'E_TLS', side: 'client' });
  });

  it('a client certificate the panel does not trust: E_TLS on the client side', async () => {
    const error = await failure(get(`https://127.0.0.1:${ports.openssl}`, { ca: pki.ca, clientCert: pki.rogueClient.cert, clientKey: pki.rogueClient.key }));
    expect(error).toMatchObject({ code: 'E_TLS', exitCode: ExitCode.unreachable, side: 'client' });
    expect(error.message).toMatch(/^client certificate refused by https:\/\/127\.0\.0\.1:\d+/);
  });

  it('plain http on an https link: E_TLS, the handshake, with a hint', async () => {
    const error = await failure(get(`https://127.0.0.1:${ports.plain}`));
    expect(error).toMatchObject({ code: 'E_TLS', exitCode: ExitCode.unreachable, side: 'handshake' });
    expect(error.hint).toMatch(/plain http/);
  });
});

describe('HTTP(S) client: TLS files are checked before anything is contacted (exit 2)', () => {
  it('a client key that is not the certificate’s', async () => {
    const error = await failure(client(`https://127.0.0.1:${ports.closed}`, { clientCert: pki.client.cert, clientKey: pki.rogueClient.key }));
    expect(error).toMatchObject({
      exitCode: ExitCode.usage,
      message: `tls.clientKey: file ${pki.rogueClient.key} is not the key of the certificate in tls.clientCert`,
    });
  });

  it('a key file others can read, like a secrets file', async () => {
    const loose = path.join(pki.dir, 'loose.key');
    fs.copyFileSync(pki.client.key, loose);
    fs.chmodSync(loose, 0o644);
    const error = await failure(client(`https://127.0.0.1:${ports.closed}`, { clientCert: pki.client.cert, clientKey: loose }));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/TLS client key \(tls\.clientKey\) .* is accessible by other users/);
  });

  it('a CA file that is missing', async () => {
    const error = await failure(client(`https://127.0.0.1:${ports.closed}`, { ca: path.join(pki.dir, 'nope.pem') }));
    expect(error).toMatchObject({ exitCode: ExitCode.usage });
    expect(error.message).toMatch(/^tls\.ca: file .*nope\.pem does not exist/);
  });

  it('a tcp link handed to the HTTP client', async () => {
    const error = await failure(openHttp(parseLink('tcp://127.0.0.1:1'), { timeoutMs: 100 }));
    expect(error).toMatchObject({ exitCode: ExitCode.usage, message: expect.stringMatching(/talks over http/) });
  });
});
