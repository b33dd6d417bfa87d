import type { DriverSchemas } from '../core/contract.js';
import { readOptionText } from '../driver-kit/options.js';

/**
 * `user: 12345678` under a panel's options, where its driver's schema takes text (a MAP 5000 REST user name): YAML
 * reads the digits as a number, and the option was refused with "must be text" although `--option user=12345678`
 * is text (src/inventory/option-text.ts). The number is taken back as its text when that text is certainly what
 * was typed, and only then: YAML also makes numbers of `0x1F`, `1e3`, `+5`, `1_000` and of digits past 2^53, whose
 * text it does not keep, and a user name, account or prefix that changed on the way is another one. So the YAML
 * reader (load.ts) notes every number whose text was not exactly the number's own digits (`reshaped`), and a number
 * is read back as text only if it is a safe non-negative integer that no such text in the document produced.
 * (Digits with a leading zero never became numbers: load.ts keeps them text.) Any other number there stays refused,
 * with the hint to put it in quotes.
 */
export function digitsAsText(
  panels: Record<string, unknown>,
  schemas: ReadonlyMap<string, DriverSchemas>,
  reshaped: ReadonlySet<number>,
): Array<{ panel: string; key: string; value: number }> {
  const refused: Array<{ panel: string; key: string; value: number }> = [];
  for (const [name, panel] of Object.entries(panels)) {
    if (!isMap(panel) || typeof panel.driver !== 'string' || !isMap(panel.options)) continue;
    const driver = schemas.get(panel.driver);
    if (!driver) continue;
    const declared = (driver.optionsSchema as { shape?: Record<string, unknown> }).shape ?? {};
    for (const [key, value] of Object.entries(panel.options)) {
      // Only an option the driver declares and reads as text, not numbers (an unknown one is refused by name anyway).
      if (typeof value !== 'number' || !Object.hasOwn(declared, key) || typeof readOptionText(driver, key, String(value)) !== 'string') continue;
      if (Number.isSafeInteger(value) && value >= 0 && !reshaped.has(value)) panel.options[key] = String(value);
      else refused.push({ panel: name, key, value });
    }
  }
  return refused;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}
