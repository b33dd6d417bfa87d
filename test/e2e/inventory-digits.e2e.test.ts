import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator as createMap, DEMO_PASSWORD as MAP_PASSWORD, type MapSimulator } from '../../drivers/map5000/simulator.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';

/**
 * An unquoted all-digit value in the inventory for an option whose schema takes text (MAP 5000's REST `user`) is a
 * YAML number: it was refused with "must be text", where `--option user=12345678` is text. Taken as text where its
 * text is certain (src/inventory/digits-as-text.ts); refused with the hint to quote it where YAML changed it.
 */

/** The simulator's REST user: only this exact text logs in. */
const DIGITS_USER = '12345678';
let map: MapSimulator;
let sandbox: Sandbox;
let panel: (user: string) => string;

beforeAll(async () => {
  sandbox = await makeSandbox();
  // Asked at twice the simulator's interval with a short back-off (see option-flags.e2e.test.ts): no real-minute 503 wait.
  map = await createMap({ users: 2, options: { user: DIGITS_USER, intervalMs: 50 } });
  const endpoint = await map.listen('127.0.0.1', 0);
  panel = (user) =>
    `panels:\n  digits:\n    driver: map5000\n    link: ${endpoint.url}\n    tls: { fingerprint: "${endpoint.fingerprint}" }\n    options: { user: ${user}, requestIntervalMs: 100, overloadBackoffMs: 200 }\n    secrets: { password: env:MAP_PASSWORD }\n`;
});

afterAll(async () => {
  await map.close();
  await sandbox.cleanup();
});

const info = async (user: string) =>
  sandbox.run(['info', '--panel', 'digits', '-o', 'json'], { env: { MAP_PASSWORD, PANELCTL_INVENTORY: await sandbox.writeInventory(panel(user)) } });

describe('inventory: digits for a text option', () => {
  it('user: 12345678 unquoted is the text 12345678, and logs in as the quoted one does', async () => {
    for (const user of [DIGITS_USER, `"${DIGITS_USER}"`]) {
      const result = await info(user);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).options).toMatchObject({ user: DIGITS_USER });
    }
  });

  it('a number whose digits YAML changed (hex, exponent, a sign, past 2^53) is refused, naming the field and saying to quote it', async () => {
    for (const [user, number] of [
      ['0xBC614E', '12345678'],
      ['1.2345678e7', '12345678'],
      ['+12345678', '12345678'],
      ['12345678901234567890', '12345678901234567000'],
    ]) {
      const result = await info(user);
      expect(result.code, `${user}: ${result.stderr}`).toBe(2);
      expect(JSON.parse(result.stderr).error.problems).toEqual([
        { field: 'panel "digits", field "options.user"', rule: `must be text (YAML reads this value unquoted as the number ${number}: put it in quotes)` },
      ]);
    }
  });

  it('the same number typed plainly beside a changed one is refused too: which text was meant is not certain', async () => {
    // An INTEGRA code prefix takes numbers: 0xBC614E is 12345678 there, and it is in the same document.
    const inventory = panel(DIGITS_USER).replace(
      '  digits:\n',
      '  other: { driver: integra, link: "tcp://127.0.0.1:9", options: { prefix: 0xBC614E } }\n  digits:\n',
    );
    const result = await sandbox.run(['info', '--panel', 'digits', '-o', 'json'], {
      env: { MAP_PASSWORD, PANELCTL_INVENTORY: await sandbox.writeInventory(inventory) },
    });
    expect(result.code, result.stderr).toBe(2);
    expect(JSON.parse(result.stderr).error.problems).toEqual([
      { field: 'panel "digits", field "options.user"', rule: 'must be text (YAML reads this value unquoted as the number 12345678: put it in quotes)' },
    ]);
  });
});
