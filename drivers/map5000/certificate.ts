import { X509Certificate } from 'node:crypto';

/**
 * The simulator's own HTTPS certificate, made when it starts, like a MAP makes its "unique self
 * signed server certificate" at first start (README, HTTPS server certificates). Each simulator
 * has its own key, so pinning is exercised for real: a pin taken from one simulator is refused by
 * another. `selfsigned` is loaded only here, only by the simulator.
 */
export interface SimCertificate {
  cert: string;
  key: string;
  /** SHA-256 fingerprint as Node reports a peer's: "AB:CD:...". */
  fingerprint: string;
}

export async function makeCertificate(commonName = 'MAP5000 simulator'): Promise<SimCertificate> {
  const selfsigned = await import('selfsigned');
  const generate = (selfsigned.default ?? selfsigned).generate;
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    // The panel makes 2048-bit RSA certificates; P-256 takes milliseconds to make and is just as pinnable.
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 3650 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}
