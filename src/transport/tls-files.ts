import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';

/**
 * What the TLS files of an https panel hold, checked before anything is contacted (exit 2 naming the field, the
 * file and the rule). OpenSSL skips a CA certificate it cannot read, so a broken `tls.ca` would otherwise be found
 * only at the handshake, as "server certificate not trusted": the wrong fault, named on the wrong side.
 */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The PEM blocks of a file, by label ("CERTIFICATE", "PRIVATE KEY", ...), in order. */
function pemBlocks(text: string): Array<{ label: string; pem: string }> {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1], pem: match[0] }));
}

/** Each certificate block must be one X.509 certificate Node can read. */
function readCertificates(blocks: Array<{ label: string; pem: string }>, field: string, file: string, rule: string): X509Certificate[] {
  const certificates = blocks.filter((block) => block.label === 'CERTIFICATE');
  return certificates.map((block, index) => {
    try {
      return new X509Certificate(block.pem);
    } catch {
      throw new ValidationError(field, `file ${file} ${rule}: certificate ${index + 1} of ${certificates.length} is not a readable X.509 certificate`);
    }
  });
}

/** `tls.ca`: one or more certificates, each readable, and no private key (a key file given for the CA, or a leaked CA key). Returns the text. */
export function checkCaFile(text: string, file: string): string {
  const rule = 'must be a PEM file of one or more certificates (BEGIN CERTIFICATE)';
  const blocks = pemBlocks(text);
  if (!blocks.some((block) => block.label === 'CERTIFICATE')) throw new ValidationError('tls.ca', `file ${file} ${rule}`);
  if (blocks.some((block) => /PRIVATE KEY/.test(block.label)))
    throw new ValidationError('tls.ca', `file ${file} holds a private key: it must hold only certificates (BEGIN CERTIFICATE), never a key`);
  readCertificates(blocks, 'tls.ca', file, rule);
  return text;
}

/**
 * `tls.clientCert` and `tls.clientKey`: the certificate (then its chain) readable, the key an unencrypted private key,
 * and the key the certificate's. The key's text is never part of a message.
 */
export function checkClientPair(cert: { text: string; file: string }, key: { secret: Secret; file: string }): void {
  const rule = 'must be a PEM certificate (BEGIN CERTIFICATE)';
  const blocks = pemBlocks(cert.text);
  if (!blocks.some((block) => block.label === 'CERTIFICATE')) throw new ValidationError('tls.clientCert', `file ${cert.file} ${rule}`);
  const [leaf] = readCertificates(blocks, 'tls.clientCert', cert.file, rule);
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key.secret.reveal());
  } catch {
    // Not PEM, not a key, or encrypted (no passphrase is ever asked for): the same fix either way.
    throw new ValidationError('tls.clientKey', `file ${key.file} must be an unencrypted PEM private key (BEGIN PRIVATE KEY)`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new ValidationError('tls.clientKey', `file ${key.file} is not the key of the certificate in tls.clientCert`);
}
