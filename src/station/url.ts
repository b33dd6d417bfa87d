import { isIP } from 'node:net';

/**
 * Where a webhook may point: https://, or http:// only to this machine (a local relay) or with an
 * explicit `insecure: true`. Anything else (file:, ftp:, data:...) is refused at inventory load.
 * Returns the rule broken, or undefined.
 */
export function checkWebhookUrl(text: string, insecure = false): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an https:// URL';
  }
  if (url.username || url.password) return 'must not carry a user or password (use the secret for authentication)';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    if (insecure || isLoopback(url.hostname)) return undefined;
    return 'must be https:// (http:// only to a loopback address, or with insecure: true on the station)';
  }
  return `must be an https:// URL (${url.protocol.replace(/:$/, '')}: is not accepted)`;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
