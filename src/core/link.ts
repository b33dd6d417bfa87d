import { ValidationError } from './errors.js';

/** Serial line settings. Drivers declare defaults; a link URL may override each. */
export interface SerialSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/**
 * How panelctl trusts an HTTPS panel's certificate (README "HTTPS panels", SECURITY.md). Never "accept any":
 * without `ca` or `fingerprint` the system's CAs decide, and a self-signed certificate is refused.
 */
export interface TlsSettings {
  /** PEM file of the CA that signed the panel's certificate (the host name is checked too). */
  ca?: string;
  /** SHA-256 fingerprint of the panel's own certificate, as Node prints it: 32 hex pairs joined by colons. */
  fingerprint?: string;
  /** PEM files of a client certificate and its private key, for panels that ask for one. */
  clientCert?: string;
  clientKey?: string;
}

export type TcpLink = { kind: 'tcp'; host: string; port?: number; url: string };
export type SerialLink = { kind: 'serial'; path: string; url: string } & Partial<SerialSettings>;
/** `http://` or `https://` (secure): a panel with a web or REST interface. `path` is the base path, without a trailing slash. */
export type HttpLink = { kind: 'http'; secure: boolean; host: string; port?: number; path: string; url: string; tls?: TlsSettings };
export type Link = TcpLink | SerialLink | HttpLink;

/** The transport a link needs, as drivers declare them in DriverInfo.transports. */
export type TransportKind = 'tcp' | 'serial' | 'http' | 'https';

export function transportOf(link: Link): TransportKind {
  return link.kind === 'http' ? (link.secure ? 'https' : 'http') : link.kind;
}

const PARITIES = ['none', 'even', 'odd'] as const;

/**
 * Parses where a panel is: `tcp://host[:port]`, `serial:///dev/ttyUSB0?baud=19200&parity=none&stopbits=1`,
 * `serial://COM3`, or a bare device path (`/dev/ttyUSB0`, `COM3`) meaning serial.
 */
export function parseLink(text: string, field = 'link'): Link {
  const raw = text.trim();
  // A link is shown in tables, errors and the audit: no control characters, no spaces.
  if (/[\u0000-\u0020\u007f-\u009f]/.test(raw)) throw new ValidationError(field, 'must not contain spaces or control characters');
  if (/^(COM\d+|\/dev\/\S+)$/i.test(raw)) return { kind: 'serial', path: raw, url: `serial://${raw}` };

  const match = /^([a-z]+):\/\/(.*)$/i.exec(raw);
  if (!match) {
    throw new ValidationError(field, `must be tcp://HOST:PORT, serial://DEVICE or https://HOST (got "${withoutUserinfo(raw)}")`);
  }
  // tcp://user:pass@host: a password in a link would be echoed, logged and audited. Refused,
  // and not repeated; credentials come from secret references (env:, file:, prompt).
  if (/^[^/?#]*@/.test(match[2])) {
    throw new ValidationError(
      field,
      'must not contain a user name or password (USER:PASSWORD@); give credentials as secret references (env:, file:, prompt), never in a link',
    );
  }
  const scheme = match[1].toLowerCase();
  const rest = match[2];
  if (scheme === 'tcp') {
    // Anything after the address would be dropped: a Modbus unit or a baud rate written there must not pass for set.
    if (/[?#]|\/./.test(rest)) {
      throw new ValidationError(
        field,
        'a tcp link is tcp://HOST:PORT only, no path, ?query or #fragment (a Modbus unit is options.unit; line settings go on serial:// links)',
      );
    }
    const portText = /:(\d+)\/?$/.exec(rest)?.[1];
    if (portText && Number(portText) > 65535) throw new ValidationError(field, 'port must be 1..65535');
    const url = safeUrl(raw, field);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!host) throw new ValidationError(field, 'tcp link needs a host, e.g. tcp://10.0.0.5:7094');
    let port: number | undefined;
    if (url.port) {
      port = Number(url.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError(field, 'port must be 1..65535');
    }
    return { kind: 'tcp', host, port, url: raw };
  }
  if (scheme === 'serial') {
    const [pathPart, query = ''] = rest.split('?', 2);
    const path = pathPart;
    if (!path) throw new ValidationError(field, 'serial link needs a device, e.g. serial:///dev/ttyUSB0 or serial://COM3');
    const link: SerialLink = { kind: 'serial', path, url: raw };
    const params = new URLSearchParams(query);
    for (const [key, value] of params) {
      switch (key.toLowerCase()) {
        case 'baud':
        case 'baudrate': {
          const baud = Number(value);
          if (!Number.isInteger(baud) || baud < 50 || baud > 4_000_000)
            throw new ValidationError(`${field}.baud`, 'must be a whole number of bits per second, e.g. 19200');
          link.baudRate = baud;
          break;
        }
        case 'parity': {
          const parity = value.toLowerCase() as (typeof PARITIES)[number];
          if (!PARITIES.includes(parity)) throw new ValidationError(`${field}.parity`, 'must be none, even or odd');
          link.parity = parity;
          break;
        }
        case 'stopbits': {
          if (value !== '1' && value !== '2') throw new ValidationError(`${field}.stopbits`, 'must be 1 or 2');
          link.stopBits = Number(value) as 1 | 2;
          break;
        }
        case 'databits': {
          if (value !== '7' && value !== '8') throw new ValidationError(`${field}.databits`, 'must be 7 or 8');
          link.dataBits = Number(value) as 7 | 8;
          break;
        }
        default:
          throw new ValidationError(`${field}.${key}`, 'unknown serial option (known: baud, parity, stopbits, databits)');
      }
    }
    return link;
  }
  if (scheme === 'http' || scheme === 'https') return parseHttpLink(raw, scheme === 'https', field);
  throw new ValidationError(field, `unknown scheme "${scheme}" (use tcp://, serial://, http:// or https://)`);
}

/** `https://host[:port][/base/path]`: no query and no fragment (the driver adds its own paths to the base). */
function parseHttpLink(raw: string, secure: boolean, field: string): HttpLink {
  if (/[?#]/.test(raw)) throw new ValidationError(field, 'an http(s) link is the address and base path only: no ?query or #fragment');
  const portText = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:]*):(\d+)/i.exec(raw)?.[1];
  if (portText && (Number(portText) < 1 || Number(portText) > 65535)) throw new ValidationError(field, 'port must be 1..65535');
  const url = safeUrl(raw, field);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new ValidationError(field, `${secure ? 'https' : 'http'} link needs a host, e.g. https://10.0.0.5`);
  const path = url.pathname.replace(/\/+$/, '');
  return { kind: 'http', secure, host, port: url.port ? Number(url.port) : undefined, path, url: raw };
}

/**
 * A SHA-256 certificate fingerprint as typed (`sha256:AB:CD...`, `abcd...`, with or without colons) in the form
 * Node reports a peer's (`AB:CD:...`), so the two compare as text. Undefined when it is not 32 bytes of hex.
 */
export function normalFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha-?256[:=]?/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

/**
 * Every problem with a panel's `tls:` settings, as [field, rule] pairs (the inventory lists them all at once).
 * `field` is relative to the panel ("tls.fingerprint").
 */
export function tlsProblems(link: Link, tls: TlsSettings): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (link.kind !== 'http' || !link.secure) problems.push(['tls', 'applies to https:// links only']);
  if (tls.fingerprint !== undefined && !normalFingerprint(tls.fingerprint)) {
    problems.push(['tls.fingerprint', 'must be the SHA-256 fingerprint of the panel certificate: 64 hex digits, colons allowed (sha256:AB:CD:...)']);
  }
  if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    problems.push([tls.clientCert === undefined ? 'tls.clientCert' : 'tls.clientKey', 'a client certificate needs both clientCert and clientKey']);
  }
  return problems;
}

/** The link with its TLS settings (fingerprint in Node's form); throws the first problem as a ValidationError. */
export function withTls(link: Link, tls: TlsSettings | undefined, field: string): Link {
  if (!tls) return link;
  const problem = tlsProblems(link, tls)[0];
  if (problem) throw new ValidationError(`${field}, field "${problem[0]}"`, problem[1]);
  const fingerprint = tls.fingerprint === undefined ? undefined : normalFingerprint(tls.fingerprint);
  return { ...(link as HttpLink), tls: { ...tls, ...(fingerprint ? { fingerprint } : {}) } };
}

function safeUrl(raw: string, field: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new ValidationError(field, `is not a valid URL: "${withoutUserinfo(raw)}"`);
  }
}

/** The text of a link with anything that looks like USER:PASSWORD@ masked, for error messages. */
function withoutUserinfo(raw: string): string {
  return raw.replace(/^([a-z]+:\/\/)?[^/?#@]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

const hostText = (host: string) => (host.includes(':') ? `[${host}]` : host);

export function describeLink(link: Link): string {
  if (link.kind === 'tcp') return `tcp://${hostText(link.host)}${link.port ? `:${link.port}` : ''}`;
  if (link.kind === 'http') return `${link.secure ? 'https' : 'http'}://${hostText(link.host)}${link.port ? `:${link.port}` : ''}${link.path}`;
  const opts = [link.baudRate && `baud=${link.baudRate}`, link.parity && `parity=${link.parity}`, link.stopBits && `stopbits=${link.stopBits}`].filter(Boolean);
  return `serial://${link.path}${opts.length ? `?${opts.join('&')}` : ''}`;
}

/** What makes two links one place (for the per-panel work lock): host names compare without case. */
export function linkIdentity(link: Link): string {
  if (link.kind === 'serial') return `serial://${link.path}`;
  const lower = { ...link, host: link.host.toLowerCase() };
  return link.kind === 'tcp' ? `tcp://${lower.host}:${link.port ?? ''}` : describeLink({ ...lower, port: link.port ?? (link.secure ? 443 : 80) });
}
