import { describe, expect, it } from 'vitest';
import { parseDriverOptions } from '../../src/driver-kit/options.js';
import { driverSchemasOf, parseInventory } from '../../src/inventory/load.js';
import { drivers } from '../../drivers/index.js';
import { optionsSchema as dscOptions } from '../../drivers/dsc/options.js';
import { optionsSchema as integraOptions } from '../../drivers/integra/options.js';

async function problemsOf(yaml: string): Promise<Array<{ field: string; rule: string }>> {
  try {
    parseInventory(yaml, 'test.yaml', drivers.names, await driverSchemasOf(drivers));
  } catch (error) {
    return (error as { data: { problems: Array<{ field: string; rule: string }> } }).data.problems;
  }
  return [];
}

describe('typed driver options in the inventory', () => {
  it('names a typo with the option it probably meant', async () => {
    expect(await problemsOf('panels:\n  x:\n    driver: dsc\n    link: tcp://10.0.0.1:4025\n    options: { maxuser: 32 }\n')).toEqual([
      { field: 'panel "x", field "options.maxuser"', rule: 'unknown option; did you mean maxUsers?' },
    ]);
  });

  it('lists every problem of every panel at once: typos, wrong types, ranges, secret names, a credential for a driver that takes none, and the base schema’s', async () => {
    const problems = await problemsOf(
      [
        'panels:',
        '  bergen:',
        '    driver: dsc',
        '    link: tcp://10.0.0.1:4025',
        '    options: { maxuser: 32, codeLength: 5, module: envisalnk, allowMaster: "yes" }',
        '    secrets: { tpiPasword: env:TPI }',
        '  gate:',
        '    driver: modbus',
        '    link: tcp://10.0.0.2:502',
        '    options: { unit: "one", framing: rtu }',
        '    secret: env:GATE_CODE',
        '  oslo:',
        '    driver: integra',
        '    link: tcp://10.0.0.3',
        '    options: { prefix: "12a", duressPlusOne: 1 }',
        '    timeoutMs: soon',
      ].join('\n'),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { field: 'panel "bergen", field "options.maxuser"', rule: 'unknown option; did you mean maxUsers?' },
        { field: 'panel "bergen", field "options.codeLength"', rule: 'must be 4 or 6' },
        { field: 'panel "bergen", field "options.module"', rule: 'must be envisalink or it100' },
        { field: 'panel "bergen", field "options.allowMaster"', rule: 'must be true or false' },
        { field: 'panel "bergen", field "secrets.tpiPasword"', rule: 'unknown secret; did you mean tpiPassword?' },
        { field: 'panel "gate", field "options.unit"', rule: 'must be a Modbus unit id 1..247 (0..255 on TCP)' },
        { field: 'panel "gate", field "options.profile"', rule: expect.stringMatching(/^is required/) },
        { field: 'panel "gate", field "secret"', rule: 'this driver takes no credential' },
        { field: 'panel "oslo", field "options.prefix"', rule: 'must be digits' },
        { field: 'panel "oslo", field "options.duressPlusOne"', rule: 'must be true or false' },
        { field: 'panel "oslo", field "timeoutMs"', rule: expect.any(String) },
      ]),
    );
    expect(problems).toHaveLength(11);
  });

  it('accepts good options, the options every driver takes, and the credential under its own name', async () => {
    expect(
      await problemsOf(
        'panels:\n  x:\n    driver: dsc\n    link: tcp://10.0.0.1:4025\n    options: { maxUsers: 32, codeLength: 6, module: it100, allowMaster: true, duressPlusOne: true }\n    secrets: { tpiPassword: env:TPI, installer: prompt }\n',
      ),
    ).toEqual([]);
  });
});

describe('drivers parse their options once, with the schema', () => {
  it('returns the typed result, and the same object for the same options', () => {
    const raw = { prefix: 12 };
    const parsed = parseDriverOptions(integraOptions, raw);
    expect(parsed).toEqual({ prefix: '12' });
    expect(parseDriverOptions(integraOptions, raw)).toBe(parsed);
  });

  it('throws exit 2 naming the field, with every problem in the data', () => {
    let error: { exitCode?: number; message?: string; data?: { problems: unknown[] } } = {};
    try {
      parseDriverOptions(dscOptions, { maxuser: 32, codeLength: 5 });
    } catch (thrown) {
      error = thrown as typeof error;
    }
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('options.codeLength: must be 4 or 6');
    expect(error.data?.problems).toEqual([
      { field: 'options.codeLength', rule: 'must be 4 or 6' },
      { field: 'options.maxuser', rule: 'unknown option; did you mean maxUsers?' },
    ]);
  });
});

describe('an --option value is read as the type its option takes (readOptionText)', () => {
  it('follows each driver schema: text stays text whatever its characters, numbers and booleans only where taken', async () => {
    const { readOptionText } = await import('../../src/driver-kit/options.js');
    const { optionsSchema: mapOptions } = await import('../../drivers/map5000/options.js');
    const { optionsSchema: vistaOptions } = await import('../../drivers/vista/options.js');
    const map = { optionsSchema: mapOptions };
    const dsc = { optionsSchema: dscOptions };
    const vista = { optionsSchema: vistaOptions };
    expect(readOptionText(map, 'user', '12345678')).toBe('12345678');
    expect(readOptionText(map, 'user', '00123456')).toBe('00123456');
    expect(readOptionText(map, 'accessModel', 'true')).toBe('true');
    expect(readOptionText(map, 'language', '1')).toBe('1');
    expect(readOptionText(map, 'requestIntervalMs', '1500')).toBe(1500);
    expect(readOptionText(map, 'requestIntervalMs', 'fast')).toBe('fast');
    // Options every driver takes, where the driver does not declare them.
    expect(readOptionText(map, 'duressPlusOne', 'false')).toBe(false);
    expect(readOptionText(map, 'codeLength', '6')).toBe(6);
    // A union of literals (4 | 6) takes numbers; a union of boolean and "true"/"false" takes booleans.
    expect(readOptionText(dsc, 'codeLength', '6')).toBe(6);
    expect(readOptionText(dsc, 'module', 'it100')).toBe('it100');
    expect(readOptionText(dsc, 'maxUsers', '32')).toBe(32);
    // A coerced number and a text option of keys.
    expect(readOptionText(vista, 'maxUser', '33')).toBe(33);
    expect(readOptionText(vista, 'walkPrompt', 'true')).toBe(true);
    expect(readOptionText(vista, 'deleteKeys', '0')).toBe('0');
    // An unknown name is kept as typed (the check then names it).
    expect(readOptionText(map, 'usr', '12')).toBe('12');
  });
});
