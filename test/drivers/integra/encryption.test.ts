import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptPdu, encryptPdu, integrationKeyBytes } from '../../../drivers/integra/encryption.js';
import { createSimulator } from '../../../drivers/integra/simulator.js';
import { driver } from '../../../drivers/integra/driver.js';
import { Secret } from '../../../src/core/secret.js';
import type { TcpServerHandle } from '../../../src/transport/tcp.js';
import { asDriverSession } from '../../support/driver-session.js';

/**
 * Vectors computed independently of this implementation, with Python's `cryptography`
 * package and the chaining written out from the description in drivers/integra/README.md
 * (key "Satel1234", space-padded to 12 and repeated to 24 bytes).
 */
const VECTORS: Array<[string, string]> = [
  ['0102030405060708', 'f7a33c733119389adbe386882b40f8e4'], // shorter than a block: zero-padded to 16
  ['11223344aabbfefe7e6c2dfe0d', 'dceea23b37724cf7270145501d221d7b'],
  ['a1b2000142a7fefe7e9ad7fe0d0000000000000000000000000000000000000000ee', '3050801479a16e7f515455a69c6627532ca22b21ac17c21042a357aec1ec1b78f11f'], // two blocks and a partial one
];

describe('ETHM-1 Plus encryption', () => {
  const key = integrationKeyBytes('Satel1234');

  it('pads the key with spaces to 12 and repeats it', () => {
    expect(key.toString('latin1')).toBe('Satel1234   Satel1234   ');
    expect(() => integrationKeyBytes('thirteen-char')).toThrow(/12/);
  });

  it.each(VECTORS)('encrypts %s as the independent computation does', (plain, cipher) => {
    expect(encryptPdu(key, Buffer.from(plain, 'hex')).toString('hex')).toBe(cipher);
  });

  it.each(VECTORS)('decrypts back to the (padded) plain text', (plain, cipher) => {
    const padded = Buffer.from(plain, 'hex');
    const expected = padded.length < 16 ? Buffer.concat([padded, Buffer.alloc(16 - padded.length)]) : padded;
    expect(decryptPdu(key, Buffer.from(cipher, 'hex'))).toEqual(expected);
  });
});

describe('encrypted session against the simulator', () => {
  let sim: Awaited<ReturnType<typeof createSimulator>>;
  let server: TcpServerHandle;
  beforeAll(async () => {
    sim = await createSimulator({ users: 3, options: { integrationKey: 'k3y-Of-ETHM' } });
    server = await sim.listenTcp();
  });
  afterAll(async () => {
    await server.close();
    await sim.close();
  });

  const open = async (integrationKey: string | undefined, timeoutMs = 3000) =>
    asDriverSession(
      await driver.open({
        link: { kind: 'tcp', host: '127.0.0.1', port: server.port, url: '' },
        secrets: { code: new Secret('1111'), ...(integrationKey ? { integrationKey: new Secret(integrationKey) } : {}) },
        options: {},
        timeoutMs,
      }),
    );

  it('lists, creates and removes users over the encrypted link', async () => {
    const session = await open('k3y-Of-ETHM');
    try {
      expect((await session.listUsers()).map((u) => u.slot)).toEqual([1, 2, 3, 241]);
      await session.createUser({ slot: 7, name: 'Encrypted', code: new Secret('604918') });
      expect(sim.state.users[7]).toMatchObject({ name: 'Encrypted', code: '604918' });
      await session.deleteUser(7);
      expect(sim.state.users[7]).toBeUndefined();
    } finally {
      await session.close();
    }
  });

  it('a wrong integration key is a clear error, not a hang', async () => {
    const session = await open('wrong-key', 1500);
    const error = await session.listUsers().catch((e) => e);
    await session.close();
    expect(error.message).toMatch(/integration key/);
    expect([4, 5]).toContain(error.exitCode);
  });

  it('a client without the key gets no answer, and is told why', async () => {
    const session = await open(undefined, 1000);
    const error = await session.listUsers().catch((e) => e);
    await session.close();
    expect(error).toMatchObject({ code: 'E_TIMEOUT', exitCode: 4 });
  });
});
