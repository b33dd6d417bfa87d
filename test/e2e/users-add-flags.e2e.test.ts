import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { expectRefused } from '../support/refused.js';

/**
 * `users add --partitions` and `--type` on a panel whose driver does not take them (DSC and VISTA: codes only; MAP 5000:
 * the type and areas come from the panel's options) were silently dropped: the user was created without them and the
 * command said it was verified. They are exit 2 naming the flag and why, before the panel is contacted, and nothing is
 * added. The demo panels run the shipped simulators.
 */

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await makeSandbox();
});

afterAll(async () => {
  await sandbox.cleanup();
});

const add = (panel: string, ...extra: string[]) => sandbox.run(['users', 'add', '--panel', panel, '--generate', '--reveal', '-y', '-o', 'json', ...extra]);

async function userCount(panel: string): Promise<number> {
  const result = await sandbox.run(['users', 'list', '--panel', panel, '-o', 'json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { users: unknown[] }).users.length;
}

describe('users add: --partitions and --type where the driver does not take them', () => {
  it('MAP 5000: --partitions and --type are refused, pointing at the options that decide them, and no user is added', async () => {
    const before = await userCount('demo-map');
    expectRefused(await add('demo-map', '--next', '--name', 'Area Seven', '--partitions', '7'), '--partitions', /accessModel/);
    expectRefused(await add('demo-map', '--next', '--name', 'Area Seven', '--type', 'User:Installer'), '--type', /userType/);
    expect(await userCount('demo-map')).toBe(before);
  });

  it('DSC and VISTA: --partitions and --type are refused (they take a code in a slot, nothing more)', async () => {
    expectRefused(await add('demo-dsc', '--slot', '20', '--partitions', '1'), '--partitions', /dsc/i);
    expectRefused(await add('demo-dsc', '--slot', '20', '--type', 'normal'), '--type', /dsc/i);
    expectRefused(await add('demo-vista', '--slot', '20', '--partitions', '1'), '--partitions', /vista/i);
  });

  it('INTEGRA takes both: the user is added with them (so the refusals above are the driver rule, not the flags)', async () => {
    const result = await add('demo', '--next', '--name', 'Two Parts', '--partitions', '1,2', '--type', 'normal');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).user).toMatchObject({ partitions: [1, 2], type: 'normal' });
  });

  it('--duress with --next is refused (it is for a duress slot named with --slot), not dropped while an ordinary user is added', async () => {
    const before = await userCount('demo');
    expectRefused(await add('demo', '--next', '--name', 'Hold Up', '--duress'), '--duress', /--slot/);
    expect(await userCount('demo')).toBe(before);
  });
});
