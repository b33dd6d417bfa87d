import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverInfo, PanelDriver, PanelSession } from '../../src/core/contract.js';
import { readOnlySession } from '../support/read-only-session.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { registryWith, runInProcess } from '../support/in-process.js';

/**
 * A panel whose driver reads users but cannot change them (no writer facet): `users set-code --user NAME` and
 * `users remove --user NAME` need no panel to know they cannot work, so they are refused before it is contacted,
 * exit 6 as `users add` is. They used to list the users first (to find the name) and only then refuse.
 */

const info: DriverInfo = {
  name: 'readonly',
  title: 'read-only test panel (lists users, changes nothing)',
  transports: ['tcp'],
  facets: { reader: true, codeChecker: false, testMode: false, probe: false },
  codeRules: { minLength: 4, maxLength: 6 },
  slotRanges: [{ from: 1, to: 8, kind: 'user' }],
  secrets: [],
};
/** How many sessions were opened: any is a contact with the panel. */
let opened = 0;
const readOnlyDriver: PanelDriver = {
  describe: () => info,
  async open(): Promise<PanelSession> {
    opened++;
    const users = [{ slot: 2, kind: 'user' as const, name: 'Anna', hasCode: true }];
    return readOnlySession(info, users);
  },
};

let sandbox: Sandbox;
const drivers = registryWith({ readonly: { driver: readOnlyDriver } });
const cli = (args: string[], input?: string) => runInProcess(args, { drivers, env: sandbox.env, input });

beforeAll(async () => {
  sandbox = await makeSandbox();
  await sandbox.writeInventory('panels:\n  shelf:\n    driver: readonly\n    link: tcp://127.0.0.1:9\n');
});
afterAll(() => sandbox.cleanup());

describe('a driver that cannot change users, asked to by name', () => {
  it('lists its users (the test driver works)', async () => {
    const listed = await cli(['users', 'list', '--panel', 'shelf', '-o', 'json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).users).toMatchObject([{ slot: 2, name: 'Anna' }]);
    expect(opened).toBe(1);
  });

  for (const [args, what] of [
    [['users', 'set-code', '--panel', 'shelf', '--user', 'Anna', '--code-stdin'], 'change codes'],
    [['users', 'remove', '--panel', 'shelf', '--user', 'Anna', '--yes'], 'remove users'],
    [['users', 'set-code', '--panel', 'shelf', '--slot', '2', '--code-stdin'], 'change codes'],
    [['users', 'remove', '--panel', 'shelf', '--slot', '2', '--yes'], 'remove users'],
  ] as const) {
    it(`${args.slice(0, 2).join(' ')} ${args[4]} ${args[5]}: exit 6 before the panel is contacted`, async () => {
      const before = opened;
      const result = await cli([...args], '604821\n');
      expect(result.code, result.stderr).toBe(6);
      expect(result.stderr).toMatch(new RegExp(`the readonly driver cannot ${what}`));
      expect(opened).toBe(before);
    });
  }
});
