import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.js';
import { drivers } from '../../drivers/index.js';
import { resolveTarget } from '../../src/inventory/targets.js';

const pin = `${'AB:'.repeat(31)}AB`;

describe('targets: https panels and credentials', () => {
  it('carries a panel’s tls settings on its link, the fingerprint in Node’s form', async () => {
    const inventory = parseInventory(
      `panels:\n  hq:\n    driver: integra\n    link: https://10.0.0.9:8443/api\n    tls: { fingerprint: "sha256:${pin.replaceAll(':', '').toLowerCase()}", clientCert: ~/desk.pem, clientKey: ~/desk.key }\n`,
      'test.yaml',
      drivers.names,
    );
    const target = await resolveTarget('hq', {}, inventory);
    expect(target.link).toMatchObject({
      kind: 'http',
      secure: true,
      host: '10.0.0.9',
      port: 8443,
      path: '/api',
      tls: { fingerprint: pin, clientCert: '~/desk.pem' },
    });
  });

  it('lists every tls problem of every panel at once, by panel and field', () => {
    let problems: Array<{ field: string; rule: string }> = [];
    try {
      parseInventory(
        'panels:\n  a:\n    driver: integra\n    link: tcp://10.0.0.1:7094\n    tls: { ca: ca.pem }\n  b:\n    driver: integra\n    link: https://10.0.0.2\n    tls: { fingerprint: nope, clientCert: c.pem, verify: false }\n',
        'test.yaml',
        drivers.names,
      );
    } catch (error) {
      problems = (error as { data: { problems: typeof problems } }).data.problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: 'panel "a", field "tls"', rule: 'applies to https:// links only' },
        { field: 'panel "b", field "tls"', rule: 'unknown field(s): verify' },
      ]),
    );
  });

  it('an ad hoc credential (--secret-from) is the driver’s credential, not a secret forced to be named "code"', async () => {
    const target = await resolveTarget(
      undefined,
      { link: 'https://10.0.0.9', driver: 'integra', secretFrom: 'env:TOKEN', knownDrivers: drivers.names },
      { panels: {} },
    );
    expect(target.credentialRef).toBe('env:TOKEN');
    expect(target.secretRefs).toEqual({});
  });
});
