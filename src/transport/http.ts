import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { PanelctlError, ProtocolError, TlsError, UnreachableError, ValidationError } from '../core/errors.js';
import { describeLink, type HttpLink, type Link } from '../core/link.js';
import { Secret } from '../core/secret.js';
import { expandHome } from '../state/paths.js';
import { readPrivateFile } from '../state/safe-file.js';
import { formatMs } from './channel.js';
import { connectFailure } from './tcp.js';
import { checkCaFile, checkClientPair } from './tls-files.js';
import { waitForConnection } from './connect-wait.js';
import type { TimeoutOptions } from '../core/byte-stream.js';

/**
 * The HTTP(S) client for panels with a web or REST interface. Built on node:http and node:tls rather than fetch:
 * Node 20's fetch takes no TLS options without the separate undici package, and pinning a panel's self-signed
 * certificate needs the handshake's result before a byte of the request is sent. One connection per request
 * (panels serve few clients; nothing is pooled that could outlive a session). Failures are the same typed errors
 * as TCP: E_REFUSED / E_CONNECT / E_TIMEOUT (exit 4), E_TLS (exit 4, naming whose certificate), E_LOST, E_ABORTED.
 */

export interface HttpRequest {
  method?: string;
  /** Appended to the link's base path: "/api/users". */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** For this request instead of the client's. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  /** The body as JSON; a body that is not JSON is a protocol error (exit 5). */
  json(): unknown;
}

export interface HttpClient {
  readonly link: HttpLink;
  /** "https://10.0.0.5:443/api", for messages. */
  readonly description: string;
  request(request: HttpRequest): Promise<HttpResponse>;
}

export interface HttpClientOptions extends TimeoutOptions {
  /** Largest answer body read (default 4 MiB); a bigger one is a protocol error, not a memory problem. */
  maxBodyBytes?: number;
  /** For --debug: method, path and status only. Headers and bodies are never traced (they carry tokens and codes). */
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

/** What the TLS settings of a link resolve to, read once when the client is made. */
export interface TlsMaterial {
  context: tls.SecureContext;
  fingerprint?: string;
  clientCertificate: boolean;
}

/**
 * A client for an http(s) link. The TLS files (CA, client certificate and key) are read here, under the same rules
 * as secrets files (yours, mode 0600, checked on the open descriptor), and a key that does not match its
 * certificate is refused (exit 2) before anything is contacted.
 */
export async function openHttp(link: Link, options: HttpClientOptions): Promise<HttpClient> {
  if (link.kind !== 'http') throw new ValidationError('link', `this panel's driver talks over http:// or https://, not ${link.kind}://`);
  const material = link.secure ? await tlsMaterial(link) : undefined;
  const description = describeLink(link);
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  return {
    link,
    description,
    async request(request) {
      const timeoutMs = request.timeoutMs ?? options.timeoutMs;
      const socket = await openSocket(link, material, { timeoutMs, signal: options.signal }, description);
      options.trace?.('tx', `${request.method ?? 'GET'} ${link.path}${request.path}`);
      const response = await exchange(link, socket, material, request, { timeoutMs, signal: options.signal, maxBodyBytes }, description);
      options.trace?.('rx', `${response.status} (${response.body.length} bytes)`);
      return response;
    },
  };
}

async function tlsMaterial(link: HttpLink): Promise<TlsMaterial> {
  const settings = link.tls ?? {};
  const read = (file: string, what: string) =>
    readPrivateFile(expandHome(file), what, 1024 * 1024).catch((error: NodeJS.ErrnoException) => {
      // Stryker disable next-line OptionalChaining,StringLiteral: every `what` below names its field in parentheses
      if (error.code === 'ENOENT') throw new ValidationError(/\((tls\.\w+)\)/.exec(what)?.[1] ?? 'tls', `file ${file} does not exist`);
      throw error;
    });
  // What each file holds is checked before OpenSSL sees it: OpenSSL skips a CA certificate it cannot read (tls-files.ts).
  const ca = settings.ca === undefined ? undefined : checkCaFile(await read(settings.ca, 'TLS CA file (tls.ca)'), settings.ca);
  const cert = settings.clientCert === undefined ? undefined : await read(settings.clientCert, 'TLS client certificate (tls.clientCert)');
  // Stryker disable next-line StringLiteral: a Secret's label shows only in util.inspect, never in output
  const key = settings.clientKey === undefined ? undefined : new Secret(await read(settings.clientKey, 'TLS client key (tls.clientKey)'), 'TLS client key');
  // Both or neither (withTls, src/core/link.ts).
  // Stryker disable next-line LogicalOperator,ConditionalExpression: withTls gives both or neither, so each operand implies the other
  if (cert !== undefined && key !== undefined)
    checkClientPair({ text: cert, file: String(settings.clientCert) }, { secret: key, file: String(settings.clientKey) });
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ ca, cert, key: key?.reveal() });
  } catch (error) {
    // Whatever OpenSSL still finds wrong with files that passed the checks above (a client key too small for
    // OpenSSL's security level): named by the file that holds it.
    // Stryker disable next-line ConditionalExpression,StringLiteral,ArrayDeclaration: no CA file that passes checkCaFile is refused here, so tls.ca is never named
    const [field, file] = cert !== undefined ? ['tls.clientCert', settings.clientCert] : ['tls.ca', settings.ca];
    throw new ValidationError(field, `file ${file} cannot be used: ${(error as Error).message}`);
  }
  return { context, fingerprint: settings.fingerprint, clientCertificate: cert !== undefined };
}

/** Connects, and for https completes and checks the handshake; nothing of the request is sent before that. */
function openSocket(link: HttpLink, material: TlsMaterial | undefined, options: TimeoutOptions, description: string): Promise<net.Socket> {
  const port = link.port ?? (link.secure ? 443 : 80);
  const socket = material
    ? tls.connect({
        host: link.host,
        port,
        // SNI takes host names only, never an address.
        servername: net.isIP(link.host) ? undefined : link.host,
        secureContext: material.context,
        ALPNProtocols: ['http/1.1'],
        // Checked below, by hand, before anything is written: the pin (when set) or the CA chain and host name.
        // Letting Node refuse on its own would hide the fingerprint the person needs to pin a self-signed panel.
        rejectUnauthorized: false,
      })
    : net.connect({ host: link.host, port });
  // A connection made and then reset or closed during the handshake is a lost link, like a reset after it: Node's
  // message for it ("...before secure TLS connection was established") is not the panel refusing TLS.
  // Stryker disable next-line BooleanLiteral: a connection refused or unreachable never fails with ECONNRESET or EPIPE
  let connected = false;
  socket.once('connect', () => {
    connected = true;
  });
  return waitForConnection<net.Socket>(socket, {
    ...options,
    description,
    readyOn: material ? 'secureConnect' : 'connect',
    failure: (error) =>
      // Stryker disable next-line Regex,StringLiteral: no other error code contains these names
      connected && /^(ECONNRESET|EPIPE)$/.test(error.code ?? '')
        ? new UnreachableError('E_LOST', `lost the connection to ${description} during the TLS handshake: the panel closed or reset it`, { cause: error })
        : material && isTlsFailure(error)
          ? tlsFailure(error, material, description)
          : connectFailure(error, description),
    refusal: () => (material ? serverCertificateProblem(socket as tls.TLSSocket, material, link, description) : undefined),
  });
}

/**
 * Why the panel's certificate is not trusted, or undefined when it is. With a pin, the certificate must be exactly
 * the pinned one (a self-signed panel's chain and name mean nothing); without one, the chain (to tls.ca, or to the
 * system's CAs) and the host name must hold.
 */
function serverCertificateProblem(socket: tls.TLSSocket, material: TlsMaterial, link: HttpLink, description: string): TlsError | undefined {
  const seen = socket.getPeerCertificate().fingerprint256;
  const data = { fingerprint: seen };
  if (material.fingerprint) {
    if (seen === material.fingerprint) return undefined;
    return new TlsError('server', `server certificate of ${description} is not the pinned one: its SHA-256 fingerprint is ${seen}`, {
      hint: `the panel presented another certificate than tls.fingerprint (${material.fingerprint}): if it was replaced on purpose, check the new fingerprint on the panel itself before pinning it; otherwise something is in between`,
      data,
    });
  }
  if (socket.authorized) return undefined;
  // Stryker disable next-line StringLiteral: an unauthorized socket always has its authorizationError
  const reason = String(socket.authorizationError ?? 'unknown reason');
  const selfSigned = /SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF/.test(reason);
  const wrongName = /ALTNAME|HOSTNAME|IP:/.test(reason);
  const why = selfSigned
    ? 'it is self-signed or signed by a CA that is not trusted'
    : wrongName
      ? `it is not issued for ${link.host}`
      : /EXPIRED/.test(reason)
        ? 'it has expired'
        : /NOT_YET_VALID/.test(reason)
          ? 'it is not valid yet (check the clocks)'
          : reason;
  return new TlsError('server', `server certificate of ${description} is not trusted: ${why} (${reason}; SHA-256 fingerprint ${seen})`, {
    hint: selfSigned
      ? `if this is the panel's own certificate, compare the fingerprint with the one the panel shows and pin it in the inventory (tls: { fingerprint: "${seen}" }), or give the CA that signed it (tls: { ca: FILE }); panelctl never accepts an unchecked certificate`
      : 'give the CA that signed it (tls: { ca: FILE }) or pin the panel certificate (tls: { fingerprint: ... }) in the inventory',
    data,
  });
}

function isTlsFailure(error: NodeJS.ErrnoException): boolean {
  // Stryker disable next-line Regex,LogicalOperator,StringLiteral: OpenSSL's errors carry both an ERR_SSL_ code and "SSL routines" or "alert" in the message
  return /^ERR_SSL_|^ERR_TLS_|^EPROTO$/.test(error.code ?? '') || /alert|handshake|ssl|tls/i.test(error.message);
}

/**
 * A TLS failure in the handshake or later (TLS 1.3 sends the panel's verdict on our client certificate after the
 * client's handshake has finished). Alerts from the panel about a certificate are about ours: the client's side.
 */
function tlsFailure(error: NodeJS.ErrnoException, material: TlsMaterial, description: string): TlsError {
  // Stryker disable next-line StringLiteral: a missing code reads the same to the patterns below
  const text = `${error.code ?? ''} ${error.message}`;
  if (/CERTIFICATE_REQUIRED/.test(text) || (/HANDSHAKE_FAILURE/.test(text) && !material.clientCertificate)) {
    return new TlsError('client', `client certificate: ${description} asks for one and none is configured (${error.code ?? error.message})`, {
      cause: error,
      hint: 'add tls: { clientCert: FILE, clientKey: FILE } to this panel in the inventory',
    });
  }
  if (
    /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|DECRYPT_ERROR)/.test(
      text,
    )
  ) {
    return new TlsError('client', `client certificate refused by ${description} (${error.code ?? error.message})`, {
      cause: error,
      hint: 'the panel does not accept tls.clientCert: check that it was issued by a CA the panel trusts and has not expired',
    });
  }
  const plain = /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(text);
  return new TlsError('handshake', `TLS handshake with ${description} failed: ${plain ? 'the other end does not speak TLS' : error.message}`, {
    cause: error,
    hint: plain ? 'the panel may serve plain http:// on this port' : undefined,
  });
}

/** Sends one request on an open socket and reads the whole answer, bounded in time and size. */
function exchange(
  link: HttpLink,
  socket: net.Socket,
  material: TlsMaterial | undefined,
  request: HttpRequest,
  options: TimeoutOptions & { maxBodyBytes: number },
  description: string,
): Promise<HttpResponse> {
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: both branches of the typeof are the same Buffer.from
  const body = request.body === undefined ? undefined : typeof request.body === 'string' ? Buffer.from(request.body) : Buffer.from(request.body);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, response?: HttpResponse) => {
      // Stryker disable next-line ConditionalExpression: the first way out removes the others (timer, abort), and req/res end once
      if (settled) return;
      // Stryker disable next-line BooleanLiteral: the same
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        socket.destroy();
        reject(error);
      } else resolve(response as HttpResponse);
    };
    const req = http.request({
      createConnection: () => socket,
      host: link.host,
      port: link.port,
      // Stryker disable next-line StringLiteral: node:http sends GET for an empty method too
      method: request.method ?? 'GET',
      path: `${link.path}${request.path}`,
      headers: { connection: 'close', ...(body ? { 'content-length': String(body.length) } : {}), ...request.headers },
    });
    const timer = setTimeout(
      () => finish(new UnreachableError('E_TIMEOUT', `no answer from ${description} within ${formatMs(options.timeoutMs)}`)),
      options.timeoutMs,
    );
    const onAbort = () => finish(new UnreachableError('E_ABORTED', 'cancelled', { transient: false }));
    // Before any way out: finish() destroys req, whose "socket hang up" must reach a listener, not the process.
    req.on('error', (error: NodeJS.ErrnoException) => finish(lostFailure(error, material, description)));
    // Cancelled since the socket opened (by a trace callback, or Ctrl-C between the two awaits).
    if (options.signal?.aborted) return onAbort();
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: finish removes the listener on every way out; once is a second guard
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBodyBytes) {
          finish(new ProtocolError(`the answer from ${description} is larger than ${options.maxBodyBytes} bytes`, { code: 'E_TOO_LARGE' }));
          return;
        }
        chunks.push(chunk);
      });
      // Stryker disable next-line StringLiteral,ArrowFunction: a cut answer emits 'aborted' first, and node:http emits res 'error' only to a listener
      res.on('error', (error: NodeJS.ErrnoException) => finish(lostFailure(error, material, description)));
      res.on('aborted', () => finish(new UnreachableError('E_LOST', `lost the connection to ${description} in the middle of its answer`)));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        finish(undefined, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: all,
          text: () => all.toString('utf8'),
          json: () => {
            try {
              return JSON.parse(all.toString('utf8'));
            } catch {
              throw new ProtocolError(`the answer from ${description} to ${request.method ?? 'GET'} ${request.path} is not JSON`);
            }
          },
        });
        socket.destroy();
      });
    });
    req.end(body);
  });
}

/**
 * A connection that broke after it was made: reset, closed without an answer, or a TLS alert (our certificate).
 * Exported for its tests: node:http hands over errors no loopback server can make on demand.
 */
export function lostFailure(error: NodeJS.ErrnoException, material: TlsMaterial | undefined, description: string): PanelctlError {
  // Stryker disable next-line ConditionalExpression: node:http never hands one of ours to req 'error'; kept as a guard
  if (error instanceof PanelctlError) return error;
  const notHttp = notHttpFailure(error, description);
  if (notHttp) return notHttp;
  if (material && isTlsFailure(error) && !/ECONNRESET|socket hang up/.test(`${error.code} ${error.message}`)) return tlsFailure(error, material, description);
  // node:http gives "socket hang up" (closed before any answer) the code ECONNRESET too: the message decides first.
  const why =
    error.message === 'socket hang up'
      ? 'the panel closed the connection without answering'
      : error.code === 'ECONNRESET'
        ? 'connection reset by the panel'
        : error.message;
  return new UnreachableError('E_LOST', `lost the connection to ${description}: ${why}`, { cause: error });
}

/**
 * node:http's parser refused the answer (llhttp's HPE_ codes): the link works and something answered, but not in
 * HTTP, so a protocol error (exit 5), not a lost link. Said in fixed words: the bytes that came are never quoted
 * (another service's banner, binary, terminal escapes), and llhttp's reason is its own text, not the peer's.
 */
function notHttpFailure(error: NodeJS.ErrnoException, description: string): ProtocolError | undefined {
  if (!error.code?.startsWith('HPE_')) return undefined;
  // The status line itself is wrong (not "HTTP/1.x NNN"): what answered is not an HTTP server.
  // Stryker disable next-line Regex: the code starts with HPE_ (above), and no llhttp code extends one of these three
  if (/^HPE_(INVALID_CONSTANT|INVALID_VERSION|INVALID_STATUS)$/.test(error.code)) {
    return new ProtocolError(`the answer from ${description} is not HTTP`, {
      hint: "another service may be listening on this port: check the port of the panel's web interface",
      data: { parseError: error.code },
    });
  }
  const reason = (error as { reason?: unknown }).reason;
  const why = typeof reason === 'string' && /^[\w ,./-]{1,80}$/.test(reason) ? reason.toLowerCase() : error.code;
  return new ProtocolError(`the answer from ${description} is not valid HTTP: ${why}`, { data: { parseError: error.code } });
}
