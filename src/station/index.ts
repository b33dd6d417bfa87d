import { ValidationError } from '../core/errors.js';
import type { StationConfig } from '../inventory/schema.js';
import { resolveSecretRef, type SecretPrompt } from '../inventory/secrets.js';
import type { StationAdapter } from './types.js';
import { manualStation, type ManualOptions } from './manual.js';

export type { NoticeReceipt, StationAdapter, StationNotice } from './types.js';
export { deliveryOf } from './types.js';

/**
 * The adapter for a panel's station. A panel with no station configured is treated as `manual`:
 * being told to phone is better than a guard turning up. `none` is for unmonitored panels and
 * must be written in the inventory on purpose.
 */
export async function stationFor(
  config: StationConfig | undefined,
  panel: string,
  manual: ManualOptions,
  promptSecret?: SecretPrompt,
): Promise<StationAdapter> {
  const station = config ?? { type: 'manual' as const };
  switch (station.type) {
    case 'webhook': {
      const { webhookStation } = await import('./webhook.js');
      const key = await resolveSecretRef(station.secret, `station webhook key for ${panel}`, promptSecret);
      return webhookStation(station.url, key, station.timeoutMs, { insecure: station.insecure });
    }
    case 'command': {
      const { commandStation } = await import('./command.js');
      return commandStation(station.command, station.timeoutMs, station.env);
    }
    case 'manual':
      return manualStation(manual);
    case 'none':
      return { kind: 'none', notify: async () => ({ confirmed: true }) };
    default:
      throw new ValidationError('station.type', 'must be webhook, command, manual or none');
  }
}
