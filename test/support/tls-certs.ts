import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';

/**
 * Certificates made at test time with the openssl command (on every Debian and macOS machine; no npm package
 * needed, and it is the tool a person uses to make a panel's certificate). EC P-256 keys: fast to make.
 * Every file is 0600 in a 0700 directory, as panelctl's TLS files must be.
 */
export interface TestPki {
  dir: string;
  /** CA that signs `server` (SAN 127.0.0.1 and localhost). */
  ca: string;
  server: { cert: string; key: string; fingerprint: string };
  /** Signed by `ca`, but for another name (SAN DNS:elsewhere.example). */
  otherName: { cert: string; key: string };
  /** Self-signed, SAN 127.0.0.1: a panel's factory certificate. */
  selfSigned: { cert: string; key: string; fingerprint: string };
  /** CA the server trusts for client certificates, and a client certificate it signed. */
  clientCa: string;
  client: { cert: string; key: string };
  /** A client certificate signed by nobody the server trusts. */
  rogueClient: { cert: string; key: string };
}

export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panelctl-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const selfSignedCert = (name: string, subject: string, extra: string[]) =>
    openssl('req', '-x509', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-days', '2', '-subj', subject, ...extra);
  const signed = (name: string, subject: string, by: string, ext: string) => {
    openssl('req', '-new', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', subject);
    fs.writeFileSync(file(`${name}.ext`), ext);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${by}.pem`),
      '-CAkey',
      file(`${by}.key`),
      '-CAcreateserial',
      '-out',
      file(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
    );
  };
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  selfSignedCert('ca', '/CN=panelctl test CA', caExt);
  selfSignedCert('clientca', '/CN=panelctl test client CA', caExt);
  selfSignedCert('self', '/CN=panel factory certificate', ['-addext', 'subjectAltName=IP:127.0.0.1']);
  signed('server', '/CN=panel', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('other', '/CN=elsewhere', 'ca', 'subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n');
  signed('client', '/CN=support desk', 'clientca', 'extendedKeyUsage=clientAuth\n');
  selfSignedCert('rogue', '/CN=rogue desk', []);
  for (const name of fs.readdirSync(dir)) fs.chmodSync(file(name), 0o600);
  fs.chmodSync(dir, 0o700);
  const fingerprint = (cert: string) => new X509Certificate(fs.readFileSync(cert)).fingerprint256;
  return {
    dir,
    ca: file('ca.pem'),
    server: { cert: file('server.pem'), key: file('server.key'), fingerprint: fingerprint(file('server.pem')) },
    otherName: { cert: file('other.pem'), key: file('other.key') },
    selfSigned: { cert: file('self.pem'), key: file('self.key'), fingerprint: fingerprint(file('self.pem')) },
    clientCa: file('clientca.pem'),
    client: { cert: file('client.pem'), key: file('client.key') },
    rogueClient: { cert: file('rogue.pem'), key: file('rogue.key') },
  };
}

/**
 * A certificate for 127.0.0.1 signed by the test CA and valid only between two dates (YYYYMMDDHHMMSSZ), for the
 * expired and not-yet-valid cases: `openssl ca` is the command that sets both dates.
 */
export function datedServerCert(pki: TestPki, name: string, start: string, end: string): { cert: string; key: string } {
  const file = (f: string) => path.join(pki.dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.writeFileSync(file('index.txt'), '');
  fs.writeFileSync(file('ca-serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  fs.writeFileSync(
    file('ca.cnf'),
    '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=ca-serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n[ext]\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-new', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', '/CN=panel');
  openssl(
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    pki.ca,
    '-keyfile',
    file('ca.key'),
    '-in',
    file(`${name}.csr`),
    '-out',
    file(`${name}.pem`),
    '-startdate',
    start,
    '-enddate',
    end,
    '-extensions',
    'ext',
  );
  return { cert: file(`${name}.pem`), key: file(`${name}.key`) };
}

/**
 * A panel whose TLS is OpenSSL's own, as in an embedded web server: it checks the client certificate in the
 * handshake against pki.clientCa and answers a bad one with an alert (Node's server would just drop the
 * connection). Resolves its port and a stop function.
 */
export function startOpensslServer(pki: TestPki): Promise<{ port: number; stop: () => void }> {
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      '127.0.0.1:0',
      '-cert',
      pki.server.cert,
      '-key',
      pki.server.key,
      '-CAfile',
      pki.clientCa,
      '-Verify',
      '1',
      '-verify_return_error',
      '-www',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const port = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      if (port) resolve({ port: Number(port), stop: () => child.kill() });
    });
    child.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)));
  });
}
