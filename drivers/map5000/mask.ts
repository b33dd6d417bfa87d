import { scrubSecrets } from '../../src/driver-kit/index.js';

/**
 * What --debug traces and error messages may show of a MAP exchange. The user model carries three
 * secrets, in plain text or encrypted ("User attributes: passcode, oiiPassword, smartkeyToken are
 * considered as user secrets", docs/UsermodelApi.md): their values are replaced wherever they
 * appear as JSON string values, in requests and answers alike, and the Authorization header is
 * reduced to its user name. Panel text that reaches a message is also cut to printable characters.
 */
const SECRET_KEYS = ['passcode', 'oiiPassword', 'smartkeyToken'];
const SECRET_VALUE = new RegExp(`("(?:${SECRET_KEYS.join('|')})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'g');

export function maskBody(text: string): string {
  return scrubSecrets(text.replace(SECRET_VALUE, '$1"[secret]"'));
}

export function maskAuthorization(header: string): string {
  const user = /username="((?:[^"\\]|\\.)*)"/.exec(header)?.[1] ?? '?';
  return `Digest username="${user}", response=[masked]`;
}

/** Panel-provided text for a message: printable ASCII only, secrets scrubbed, at most 200 characters. */
export function panelText(text: string): string {
  const printable = maskBody(text)
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return printable.length > 200 ? `${printable.slice(0, 200)}...` : printable;
}
