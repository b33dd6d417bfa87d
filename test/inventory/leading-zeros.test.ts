import { describe, expect, it } from 'vitest';
import { drivers } from '../../drivers/index.js';
import { driverSchemasOf, parseInventory } from '../../src/inventory/load.js';

/**
 * An account "0123" or a code prefix "0123" written without quotes is still "0123": YAML's core schema would read it
 * as the number 123, and a station told about account 123 puts another customer on test; a panel given prefix 123
 * counts a wrong code. Numbers without a leading zero stay numbers.
 */
async function shop(fields: string) {
  const inventory = parseInventory(
    `panels:\n  shop:\n    driver: integra\n    link: tcp://10.0.0.3\n${fields}`,
    'test.yaml',
    drivers.names,
    await driverSchemasOf(drivers),
  );
  return inventory.panels.shop;
}

describe('digits with a leading zero in the inventory', () => {
  it('keep their zeros: an unquoted account and code prefix are read as the text written', async () => {
    const panel = await shop('    account: 0123\n    options: { prefix: 0042 }\n');
    expect(panel.account).toBe('0123');
    expect(panel.options).toMatchObject({ prefix: '0042' });
  });

  it('numbers without a leading zero, 0 itself, decimals and hex stay numbers', async () => {
    const panel = await shop('    options: { prefix: 12 }\n');
    expect(panel.options).toMatchObject({ prefix: 12 });
    const modbus = parseInventory(
      'panels:\n  gate:\n    driver: modbus\n    link: tcp://10.0.0.2:502\n    options: { unit: 0x1F, profile: demo-modbus }\n',
      'test.yaml',
      drivers.names,
      await driverSchemasOf(drivers),
    );
    expect(modbus.panels.gate.options).toMatchObject({ unit: 31 });
  });

  it('a number option written with a leading zero is refused naming the field, not read as another number', async () => {
    await expect(
      (async () =>
        parseInventory(
          'panels:\n  gate:\n    driver: modbus\n    link: tcp://10.0.0.2:502\n    options: { unit: 07, profile: demo-modbus }\n',
          'test.yaml',
          drivers.names,
          await driverSchemasOf(drivers),
        ))(),
    ).rejects.toThrow(/options\.unit/);
  });
});
