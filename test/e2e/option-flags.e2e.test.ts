import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator as createDsc } from '../../drivers/dsc/simulator.js';
import { createSimulator as createMap, DEMO_PASSWORD as MAP_PASSWORD, type MapSimulator } from '../../drivers/map5000/simulator.js';
import { createSimulator as createModbus } from '../../drivers/modbus/simulator.js';
import { makeSandbox, type Sandbox } from '../support/cli.js';
import { servedSimulators } from '../support/served.js';

/**
 * `--option KEY=VALUE` is checked against the driver's option schema like an inventory entry: an unknown name or a bad
 * value is exit 2 with the field, the rule and a did-you-mean, before the panel is contacted (each simulator counts the
 * connections it accepts).
 */

const MASTER = '738215';
const TPI = 'Qv7tZp';

const simulators = servedSimulators();
let dscPort: number;
let modbusPort: number;
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await makeSandbox();
  dscPort = await simulators.serve(await createDsc({ users: 2, options: { codeLength: 6, tpiPassword: TPI, masterCode: MASTER } }));
  modbusPort = await simulators.serve(await createModbus({ users: 3 }));
  await sandbox.writeInventory(
    `panels:\n  shop:\n    driver: dsc\n    link: tcp://127.0.0.1:${dscPort}\n    secret: env:DSC_MASTER\n    secrets: { tpiPassword: env:DSC_TPI }\n    options: { codeLength: 6 }\n`,
  );
});

afterAll(async () => {
  await sandbox.cleanup();
});

beforeEach(() => simulators.resetContacts());

const run = (args: string[]) => sandbox.run(args, { env: { DSC_MASTER: MASTER, DSC_TPI: TPI } });

describe('--option is checked against the driver schema before any contact', () => {
  it('refuses an unknown option name with a did-you-mean (it was silently ignored)', async () => {
    const result = await run(['users', 'list', '--panel', 'shop', '--option', 'maxuser=10']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('panel "shop", field "options.maxuser": unknown option; did you mean maxUsers?');
    expect(simulators.contacts(dscPort)).toBe(0);
  });

  it('refuses a value the schema does not allow, naming the rule', async () => {
    const result = await run(['users', 'list', '--panel', 'shop', '--option', 'maxUsers=200', '-o', 'json']);
    expect(result.code, result.stderr).toBe(2);
    expect(JSON.parse(result.stderr).error).toMatchObject({
      errorCode: 'E_INVALID',
      message: 'panel "shop", field "options.maxUsers": must be a whole number from 1 to 95',
    });
    expect(simulators.contacts(dscPort)).toBe(0);
  });

  it('refuses a typo on an ad hoc --link, listing every problem at once', async () => {
    const link = `tcp://127.0.0.1:${modbusPort}`;
    const result = await run([
      'users',
      'list',
      '--link',
      link,
      '--driver',
      'modbus',
      '--option',
      'profile=demo-modbus',
      '--option',
      'unti=1',
      '--option',
      'framing=ascii',
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`panel "${link}", field "options.framing": must be mbap or rtu`);
    expect(result.stderr).toContain('options.unti: unknown option; did you mean unit?');
    expect(simulators.contacts(modbusPort)).toBe(0);
  });

  it('takes good options as before: the panel is reached (so the counts above are of real contacts)', async () => {
    const result = await run(['users', 'list', '--panel', 'shop', '--option', 'maxUsers=32', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(simulators.contacts(dscPort)).toBeGreaterThan(0);
  });

  it('the options every driver takes (duressPlusOne, codeLength) pass the check and the driver (VISTA and MAP 5000 refused them at open)', async () => {
    for (const panel of ['demo-vista', 'demo-map']) {
      const result = await run(['info', '--panel', panel, '--option', 'duressPlusOne=false', '-o', 'json']);
      expect(result.code, `${panel}: ${result.stderr}`).toBe(0);
      expect(JSON.parse(result.stdout).panel).toBe(panel);
    }
  });

  it('info -o json shows the options the panel is driven with, defaults filled in and --option applied', async () => {
    const result = await run(['info', '--panel', 'demo-vista', '--option', 'maxUser=33', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).options).toEqual({
      maxUser: 33,
      deleteKeys: '#0',
      walkPrompt: true,
      keyIntervalMs: 50,
      keyTimeoutMs: 3000,
      ackTimeoutMs: 5000,
      address: 18,
      allowMaster: false,
    });
  });
});

describe('--secret-from is refused where nothing would use it, before any contact (it was silently ignored)', () => {
  it('on an ad hoc Modbus panel: exit 2 naming the flag and why', async () => {
    const link = `tcp://127.0.0.1:${modbusPort}`;
    const args = ['users', 'list', '--link', link, '--driver', 'modbus', '--option', 'profile=demo-modbus', '--secret-from', 'env:DSC_MASTER'];
    const result = await run(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--secret-from: the modbus driver takes no credential');
    expect(simulators.contacts(modbusPort)).toBe(0);
    const json = await run([...args, '-o', 'json']);
    expect(JSON.parse(json.stderr).error).toMatchObject({ errorCode: 'E_INVALID', field: '--secret-from', rule: 'the modbus driver takes no credential' });
    expect(simulators.contacts(modbusPort)).toBe(0);
  });

  it('on an inventory panel (no --link): exit 2, the credential is the inventory entry`s', async () => {
    const result = await run(['users', 'list', '--panel', 'shop', '--secret-from', 'env:DSC_MASTER']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--secret-from: only with --link and --driver');
    expect(simulators.contacts(dscPort)).toBe(0);
  });

  it('--driver without --link: exit 2 (the inventory entry names the driver)', async () => {
    const result = await run(['users', 'list', '--panel', 'shop', '--driver', 'modbus']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--driver: only with --link');
    expect(simulators.contacts(dscPort)).toBe(0);
  });

  it('an ad hoc DSC panel still takes its credential from --secret-from (the panel is reached)', async () => {
    const link = `tcp://127.0.0.1:${dscPort}`;
    const result = await sandbox.run(['users', 'list', '--link', link, '--driver', 'dsc', '--secret-from', 'env:DSC_MASTER', '-o', 'json'], {
      env: { DSC_MASTER: MASTER, DSC_TPI: TPI },
    });
    expect(simulators.contacts(dscPort)).toBeGreaterThan(0);
    expect(result.stderr).not.toContain('--secret-from');
  });
});

describe('--option values take the type the driver schema expects (digits were read as a number: "must be text")', () => {
  /** A MAP 5000 whose REST user name is all digits, with a leading zero: only the exact text logs in. */
  const DIGITS_USER = '01234567';
  let map: MapSimulator;

  beforeAll(async () => {
    // The panel asks at twice the simulator's interval and backs off briefly: each panelctl is a new process, pacing
    // only its own requests, so one started right after another may meet a 503 and must not wait the real minute.
    map = await createMap({ users: 2, options: { user: DIGITS_USER, intervalMs: 50 } });
    const endpoint = await map.listen('127.0.0.1', 0);
    await sandbox.writeInventory(
      `panels:\n  shop:\n    driver: dsc\n    link: tcp://127.0.0.1:${dscPort}\n    secret: env:DSC_MASTER\n    secrets: { tpiPassword: env:DSC_TPI }\n    options: { codeLength: 6 }\n  digits:\n    driver: map5000\n    link: ${endpoint.url}\n    tls: { fingerprint: "${endpoint.fingerprint}" }\n    options: { user: panelctl-someone, requestIntervalMs: 100, overloadBackoffMs: 200 }\n    secrets: { password: env:MAP_PASSWORD }\n`,
    );
  });

  afterAll(async () => {
    await map.close();
  });

  const runMap = (args: string[]) => sandbox.run(args, { env: { MAP_PASSWORD } });

  it('MAP 5000: a text option given as digits stays text, leading zero kept, and logs in', async () => {
    const result = await runMap(['info', '--panel', 'digits', '--option', `user=${DIGITS_USER}`, '--option', 'accessModel=true', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).options).toMatchObject({ user: DIGITS_USER, accessModel: 'true', requestIntervalMs: 100 });
  });

  it('MAP 5000: 12345678 as the user is text too; a number option given as text is refused naming the rule', async () => {
    const asText = await runMap(['info', '--panel', 'digits', '--option', 'user=12345678', '-o', 'json']);
    // The name is read as text and sent: the simulator refuses that user (exit 3), not panelctl's check (exit 2).
    expect(asText.stderr).not.toContain('must be text');
    expect(asText.code, asText.stderr).toBe(3);
    const badNumber = await runMap(['info', '--panel', 'digits', '--option', 'requestIntervalMs=fast']);
    expect(badNumber.code, badNumber.stderr).toBe(2);
    expect(badNumber.stderr).toContain('field "options.requestIntervalMs": must be a number');
  });

  it('VISTA: numbers and booleans are read as such, text stays text', async () => {
    const result = await run([
      'info',
      '--panel',
      'demo-vista',
      '--option',
      'maxUser=33',
      '--option',
      'walkPrompt=false',
      '--option',
      'deleteKeys=#0',
      '-o',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).options).toMatchObject({ maxUser: 33, walkPrompt: false, deleteKeys: '#0' });
  });

  it('DSC: the numbers and boolean every driver takes, and a module name', async () => {
    const result = await run([
      'users',
      'list',
      '--panel',
      'shop',
      '--option',
      'maxUsers=32',
      '--option',
      'duressPlusOne=true',
      '--option',
      'module=envisalink',
      '-o',
      'json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const refused = await run(['users', 'list', '--panel', 'shop', '--option', 'duressPlusOne=yes']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('field "options.duressPlusOne": must be true or false');
  });
});
