import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type HttpLink, type PanelSimulator, type SimulatorEndpoint, type SimulatorOptions, loadState, saveState } from '../../src/driver-kit/index.js';
import { makeCertificate, type SimCertificate } from './certificate.js';
import { MAX_REQUEST_BYTES, MIN_REQUEST_INTERVAL_MS } from './limits.js';
import { MapModel, type SimFaults, type SimSettings, type SimState, newState } from './sim-model.js';

/**
 * `panelctl sim map5000` and the `demo-map` panel: the MAP model (sim-model.ts) served over real
 * HTTPS on loopback with a certificate made at start. Options (all optional):
 * - `licence` (default true): false answers 403 "License missing MUM/usermodel" on the user model;
 * - `intervalMs` (default 1000): the pacing rule; a request sooner after the last answer gets 503;
 * - `busy` (default 0): answer the next N requests with 503;
 * - `lockout` (default false): start with the tamper lockout on (401 to everything, no challenge);
 * - `tamperAttempts` (default 3), `tamperLockoutMs` (default 60000);
 * - `encrypted` (default false): passcodes come back encrypted (a shared key is set);
 * - `user`, `password`: the REST-API credential (defaults below; demoSecrets() tells them).
 * State (users, sync id, areas, walk tests) is kept in `statePath` as JSON, saved atomically on change.
 */

export const DEMO_USER = 'panelctl-demo';
export const DEMO_PASSWORD = 'Demo-Pass-42!';

export interface MapEndpoint extends SimulatorEndpoint {
  /** https://HOST:PORT with tls.fingerprint pinning this simulator's certificate. */
  link: HttpLink;
  host: string;
  port: number;
  url: string;
  /** The certificate the simulator serves, for pinning. */
  fingerprint: string;
  certificate: string;
  close(): Promise<void>;
}

export class MapSimulator implements PanelSimulator {
  readonly model: MapModel;
  private servers = new Set<https.Server>();
  private certificate: SimCertificate | undefined;

  constructor(
    state: SimState,
    readonly settings: SimSettings,
    faults: SimFaults,
    private readonly statePath?: string,
    private readonly log?: (line: string) => void,
  ) {
    this.model = new MapModel(state, settings, faults, () => this.save());
  }

  demoSecrets(): Record<string, string> {
    return { password: this.settings.password };
  }

  async listen(host = '127.0.0.1', port = 0): Promise<MapEndpoint> {
    this.certificate ??= await makeCertificate();
    const { cert, key, fingerprint } = this.certificate;
    // requestCert: the client certificate is "an optional part of SSL handshake" (securitySchemes.clientCert).
    const server = https.createServer({ cert, key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (request, response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_REQUEST_BYTES + 1) chunks.push(chunk);
      });
      request.on('end', () => {
        const headers: Record<string, string | undefined> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        const answer = this.model.handle(
          {
            method: request.method ?? 'GET',
            path: request.url ?? '/',
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
            remote: request.socket.remoteAddress ?? '?',
          },
          performance.now(),
        );
        this.log?.(`${request.method} ${request.url} -> ${answer.status}`);
        response.on('finish', () => this.model.answered(performance.now()));
        response.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
        response.end(answer.body);
      });
    });
    // TCP keepalive drops lost connections after 25 s on the panel (README); idle clients are closed after that.
    server.keepAliveTimeout = 25_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.servers.add(server);
    const bound = (server.address() as AddressInfo).port;
    const url = `https://${host}:${bound}`;
    this.log?.(`MAP 5000 simulator on ${url}, certificate sha256 ${fingerprint}`);
    return {
      // What a client uses: this https link, pinned to the certificate made at start (the kit's serveSimulator and demo panels pass it on).
      link: { kind: 'http', secure: true, host, port: bound, path: '', url, tls: { fingerprint } },
      host,
      port: bound,
      url,
      fingerprint,
      certificate: cert,
      close: () => this.closeServer(server),
    };
  }

  private closeServer(server: https.Server): Promise<void> {
    this.servers.delete(server);
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers].map((server) => this.closeServer(server)));
    this.save();
  }

  private save(): void {
    saveState(this.statePath, this.model.state);
  }
}

const bool = (value: unknown, fallback: boolean) => (value === undefined ? fallback : value === true || value === 'true' || value === 1);
const num = (value: unknown, fallback: number) => (value === undefined || value === '' ? fallback : Number(value));

export async function createSimulator(options: SimulatorOptions): Promise<MapSimulator> {
  const o = options.options ?? {};
  const settings: SimSettings = {
    username: String(o.user ?? DEMO_USER),
    password: String(o.password ?? DEMO_PASSWORD),
    realm: 'MAP5000',
    licence: bool(o.licence, true),
    minIntervalMs: num(o.intervalMs, MIN_REQUEST_INTERVAL_MS),
    tamperAttempts: num(o.tamperAttempts, 3),
    tamperLockoutMs: num(o.tamperLockoutMs, 60_000),
    encryptedSecrets: bool(o.encrypted, false),
  };
  const faults: SimFaults = { busyReplies: num(o.busy, 0), lockedOut: bool(o.lockout, false) };
  const fresh = () => newState(options.users ?? 12);
  const state = loadState<SimState>(options.statePath, fresh, (saved) => (saved as SimState | null)?.format === 'panelctl-map5000-sim/1');
  return new MapSimulator(state, settings, faults, options.statePath, options.log);
}

/** The `--set` names createSimulator reads (`panelctl sim` refuses others). */
export const simulatorOptions: readonly string[] = [
  'user',
  'password',
  'licence',
  'intervalMs',
  'tamperAttempts',
  'tamperLockoutMs',
  'encrypted',
  'busy',
  'lockout',
];
