import type { DriverRegistry } from '../core/contract.js';
import { ValidationError } from '../core/errors.js';
import type { Target } from './target.js';

/**
 * `--driver` and `--secret-from` say how to reach an ad hoc panel (`--link`); an inventory or demo panel has its
 * driver and credential in its entry, so either flag without `--link` would be ignored: exit 2, before any contact.
 */
export function refuseAdHocFlagsWithoutLink(flags: { link?: string; driver?: string; secretFrom?: string }): void {
  if (flags.link) return;
  const where = 'an inventory or demo panel takes its driver and credential (secret:) from its inventory entry';
  if (flags.secretFrom !== undefined) throw new ValidationError('--secret-from', `only with --link and --driver (an ad hoc panel); ${where}`);
  if (flags.driver !== undefined) throw new ValidationError('--driver', `only with --link (an ad hoc panel); ${where}`);
}

/**
 * `--secret-from` on a driver that takes no credential (Modbus has no login) would be ignored: exit 2 naming the flag,
 * like the inventory's `secret:` on such a panel (src/driver-kit/options.ts), before the panel is contacted.
 */
export async function refuseUnusedCredential(target: Target, secretFrom: string | undefined, drivers: Pick<DriverRegistry, 'loadSchemas'>): Promise<void> {
  if (secretFrom === undefined) return;
  const secrets = (await drivers.loadSchemas?.(target.driver))?.secretsSchema as { shape?: Record<string, unknown> } | undefined;
  if (secrets?.shape && Object.keys(secrets.shape).length === 0) {
    throw new ValidationError('--secret-from', `the ${target.driver} driver takes no credential`, {
      hint: `leave out --secret-from; \`panelctl drivers\` says which drivers take one`,
    });
  }
}
