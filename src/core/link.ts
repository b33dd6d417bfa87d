import { ValidationError } from './errors.js';

/** Serial line settings. Drivers declare defaults; a link URL may override each. */
export interface SerialSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

export type Link = { kind: 'tcp'; host: string; port?: number; url: string } | ({ kind: 'serial'; path: string; url: string } & Partial<SerialSettings>);

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
    throw new ValidationError(field, `must be tcp://HOST:PORT or serial://DEVICE (got "${withoutUserinfo(raw)}")`);
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
    const link: Link = { kind: 'serial', path, url: raw };
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
  throw new ValidationError(field, `unknown scheme "${scheme}" (use tcp:// or serial://)`);
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

export function describeLink(link: Link): string {
  if (link.kind === 'tcp') return `tcp://${link.host.includes(':') ? `[${link.host}]` : link.host}${link.port ? `:${link.port}` : ''}`;
  const opts = [link.baudRate && `baud=${link.baudRate}`, link.parity && `parity=${link.parity}`, link.stopBits && `stopbits=${link.stopBits}`].filter(Boolean);
  return `serial://${link.path}${opts.length ? `?${opts.join('&')}` : ''}`;
}
