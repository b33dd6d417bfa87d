import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DriverOptions, PanelDriver } from '../../src/core/contract.js';
import { parseLink } from '../../src/core/link.js';
import { Secret, type Secrets } from '../../src/core/secret.js';
import { driver as integra } from '../../drivers/integra/driver.js';
import { driver as map5000 } from '../../drivers/map5000/driver.js';
import { driver as modbus } from '../../drivers/modbus/driver.js';
import { driver as vista } from '../../drivers/vista/driver.js';

/**
 * Each driver's open() parses its options with its schema (drivers/<name>/options.ts, parseDriverOptions in the kit):
 * the rules the inventory check applies, before anything is sent. A loopback server counts the connections made.
 */

let server: net.Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
  connections = 0;
});

interface Case {
  driver: PanelDriver;
  scheme: string;
  secrets: () => Secrets;
  /** The options it needs to open at all. */
  base: DriverOptions;
  typo: [string, string];
}

const cases: Record<string, Case> = {
  integra: { driver: integra, scheme: 'tcp', secrets: () => ({ code: new Secret('1234') }), base: {}, typo: ['prefx', 'prefix'] },
  modbus: { driver: modbus, scheme: 'tcp', secrets: () => ({}), base: { profile: 'demo-modbus' }, typo: ['unti', 'unit'] },
  vista: { driver: vista, scheme: 'tcp', secrets: () => ({ code: new Secret('1234') }), base: {}, typo: ['maxuser', 'maxUser'] },
  map5000: {
    driver: map5000,
    scheme: 'https',
    secrets: () => ({ password: new Secret('a-password') }),
    base: { user: 'panelctl-desk' },
    typo: ['requestIntervalMS', 'requestIntervalMs'],
  },
};

function open(c: Case, options: DriverOptions) {
  const link = parseLink(`${c.scheme}://127.0.0.1:${port}`, 'link');
  return c.driver.open({ link, secrets: c.secrets(), options: { ...c.base, ...options }, timeoutMs: 2000 });
}

describe.each(Object.entries(cases))('%s: options parsed by the schema at open()', (_name, c) => {
  it('an unknown option is exit 2 with a did-you-mean, and nothing is contacted', async () => {
    const [typed, meant] = c.typo;
    await expect(open(c, { [typed]: 1 })).rejects.toMatchObject({
      exitCode: 2,
      field: `options.${typed}`,
      rule: `unknown option; did you mean ${meant}?`,
    });
    expect(connections).toBe(0);
  });

  it('takes the options every driver takes (duressPlusOne, codeLength), as the inventory check does', async () => {
    // The link is a server that hangs up at once: an open session, or a failure of the link, shows the options were taken.
    const outcome = await open(c, { duressPlusOne: false, codeLength: 4 }).then(
      (session) => session.close(),
      (error) => error,
    );
    expect(outcome).not.toMatchObject({ exitCode: 2 });
  });
});

describe('INTEGRA: options', () => {
  it('a panel without options is parsed without loading zod, which is right only while {} parses to {}', async () => {
    const { optionsSchema } = await import('../../drivers/integra/options.js');
    expect(optionsSchema.parse({})).toEqual({});
  });

  it('a bad code prefix is refused before connecting (it was found only after the connection was made)', async () => {
    await expect(open(cases.integra, { prefix: '12a' })).rejects.toMatchObject({ exitCode: 2, field: 'options.prefix', rule: 'must be digits' });
    expect(connections).toBe(0);
  });
});

describe('the schema is the one list of options and secret names', () => {
  it('every driver describes exactly the options and secrets its schemas declare', async () => {
    const { drivers } = await import('../../drivers/index.js');
    for (const name of drivers.names) {
      const info = (await drivers.load(name)).describe();
      const schemas = await drivers.loadSchemas?.(name);
      const keys = (schema: unknown) => Object.keys((schema as { shape: object }).shape).sort();
      expect(info.options?.map((o) => o.name).sort(), name).toEqual(keys(schemas?.optionsSchema));
      expect(info.secrets.map((s) => s.name).sort(), name).toEqual(keys(schemas?.secretsSchema));
    }
  });

  it('help is read from the schema: its description, its default, whether it must be given', () => {
    expect(modbus.describe().options).toEqual([
      { name: 'profile', description: expect.stringMatching(/^the device profile/), required: true },
      { name: 'unit', description: 'Modbus unit id (slave address) (default 1)' },
      { name: 'framing', description: expect.stringMatching(/^mbap \(Modbus TCP/) },
    ]);
    expect(vista.describe().options).toContainEqual({ name: 'deleteKeys', description: expect.stringMatching(/\(default "#0"\)$/) });
  });
});
