import type { DriverOptions, DriverRegistry } from '../core/contract.js';
import { ValidationError } from '../core/errors.js';
import { checkDriverOptions, readOptionText } from '../driver-kit/options.js';
import { guessOptionValue } from './option-text.js';
import type { Target } from './target.js';

/**
 * `--option KEY=VALUE` laid over a panel's options for this run, and the result checked with the driver's schema
 * like an inventory entry (issue 15 item 3): an unknown name (with a did-you-mean) or a bad value is exit 2, every
 * problem listed, before the panel is contacted. The driver still parses the options itself when it opens.
 */
export async function applyOptionFlags(
  target: Target,
  given: ReadonlyArray<readonly [string, string]>,
  drivers: Pick<DriverRegistry, 'loadSchemas'>,
): Promise<void> {
  const schemas = await drivers.loadSchemas?.(target.driver);
  // Each value as the type its option takes (a text option keeps 01234567 as typed); a driver without schemas gets the guess.
  const read = (key: string, text: string) => (schemas ? readOptionText(schemas, key, text) : guessOptionValue(text));
  const options: DriverOptions = { ...target.options, ...Object.fromEntries(given.map(([key, text]) => [key, read(key, text)])) };
  const problems = schemas ? checkDriverOptions(schemas, options).problems : [];
  if (problems.length) {
    const listed = problems.slice(0, 20).map((p) => `  - ${p.field}: ${p.rule}`);
    throw new ValidationError(`panel "${target.name}", field "${problems[0].field}"`, problems[0].rule, {
      hint: `${problems.length > 1 ? `${problems.length} problems with this run's options:\n${listed.join('\n')}\n` : ''}--option KEY=VALUE sets one of the driver's options (\`panelctl drivers -o json\` lists them) over the inventory's`,
      data: { problems: problems.map((p) => ({ field: `panel "${target.name}", field "${p.field}"`, rule: p.rule })) },
    });
  }
  target.options = options;
}
