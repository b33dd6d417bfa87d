import { UsageError, ValidationError } from '../core/errors.js';
import { parseLink, withTls } from '../core/link.js';
import type { InventoryFile, PanelConfig, StationConfig } from './schema.js';
import type { Target } from './target.js';
import { PANEL_NAME, PANEL_NAME_RULE } from './panel-name.js';
import { demoPanelNames, isDemoPanel } from './demo.js';
import { editDistance, nearness, typoBudget } from './fuzzy.js';

export type { Target } from './target.js';

export interface AdHocLink {
  link?: string;
  driver?: string;
  secretFrom?: string;
  /** The driver registry's names, which --driver must be one of (OperationContext.drivers). */
  knownDrivers?: readonly string[];
}

function fromConfig(name: string, config: PanelConfig, inventory: InventoryFile): Target {
  return {
    name,
    driver: config.driver,
    link: withTls(parseLink(config.link, `panel "${name}" link`), config.tls, `panel "${name}"`),
    secretRefs: { ...config.secrets },
    credentialRef: config.secret,
    options: { ...config.options },
    tags: { ...config.tags },
    account: config.account,
    customer: config.customer,
    description: config.description,
    station: resolveStation(config.station ?? inventory.defaults?.station, inventory, name),
    timeoutMs: config.timeoutMs ?? inventory.defaults?.timeoutMs,
    demo: false,
  };
}

function resolveStation(value: string | StationConfig | undefined, inventory: InventoryFile, panel: string): StationConfig | undefined {
  if (value === undefined || typeof value !== 'string') return value;
  const station = inventory.stations?.[value];
  if (!station) throw new UsageError(`panel "${panel}", field "station": no station named "${value}" under stations:`, { code: 'E_INVALID' });
  return station;
}

/**
 * The name given to an ad hoc panel (`--panel NAME --link ...`) is written into the audit log
 * and shown on terminals: the inventory's rule applies, and a name the inventory (or a demo
 * panel) already has is refused, so the audit never records one panel's name for another link.
 */
function checkAdHocName(name: string, inventory: InventoryFile): void {
  if (!PANEL_NAME.test(name)) throw new ValidationError('--panel', `${PANEL_NAME_RULE}; an ad hoc panel (with --link) needs such a name, or none`);
  if (inventory.panels[name] || isDemoPanel(name)) {
    throw new UsageError(
      `--panel ${name} is ${inventory.panels[name] ? 'a panel in the inventory' : 'a built-in demo panel'}; with --link, give the ad hoc panel a name of its own (or leave --panel out)`,
      {
        code: 'E_INVALID',
        hint: `to use the inventory's panel as configured, leave out --link and --driver`,
      },
    );
  }
}

/** Finds a panel by name: the inventory first, then the built-in demo panels. */
export async function resolveTarget(name: string | undefined, adHoc: AdHocLink, inventory: InventoryFile): Promise<Target> {
  if (adHoc.link) {
    const driverNames = adHoc.knownDrivers ?? [];
    if (!adHoc.driver) throw new UsageError('--link needs --driver', { hint: `drivers: ${driverNames.join(', ')}` });
    if (!driverNames.includes(adHoc.driver)) throw new UsageError(`--driver: must be one of ${driverNames.join(', ')}`, { code: 'E_INVALID' });
    if (name !== undefined) checkAdHocName(name, inventory);
    return {
      name: name ?? adHoc.link,
      driver: adHoc.driver,
      link: parseLink(adHoc.link, '--link'),
      secretRefs: {},
      credentialRef: adHoc.secretFrom ?? 'prompt',
      options: {},
      tags: {},
      demo: false,
    };
  }
  if (!name) throw new UsageError('which panel? give --panel NAME (see `panelctl panels`) or --link URL --driver NAME');
  const config = inventory.panels[name];
  if (config) return fromConfig(name, config, inventory);
  if (isDemoPanel(name)) {
    const { demoTarget } = await import('./demo.js');
    return demoTarget(name);
  }
  throw noSuchPanel(name, inventory);
}

/** "no panel named olso-office": with the nearest names by name, customer or account ("did you mean oslo-office?"). */
export function noSuchPanel(name: string, inventory: InventoryFile): UsageError {
  const known = Object.keys(inventory.panels);
  const near = suggestPanels(name, inventory);
  return new UsageError(`no panel named "${name}" in the inventory${near.length ? `; did you mean ${near.join(' or ')}?` : ''}`, {
    code: 'E_NO_PANEL',
    hint: near.length
      ? 'see `panelctl panels` for every name'
      : known.length
        ? `known panels: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', ...' : ''}`
        : 'the inventory is empty; try --panel demo',
    data: near.length ? { didYouMean: near } : undefined,
  });
}

/** Up to three panel names near `typed`: by edit distance to the name, or to a word of the name, customer or account. */
export function suggestPanels(typed: string, inventory: InventoryFile): string[] {
  const candidates = Object.entries(inventory.panels).map(([name, config]) => ({ name, fields: [name, config.customer ?? '', config.account ?? ''] }));
  for (const demo of demoPanelNames) if (!inventory.panels[demo]) candidates.push({ name: demo, fields: [demo] });
  return candidates
    .map((c) => ({ name: c.name, distance: Math.min(editDistance(typed.toLowerCase(), c.name.toLowerCase()), nearness(typed, c.fields) ?? Infinity) }))
    .filter((c) => c.distance <= Math.max(1, typoBudget(typed)))
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, 3)
    .map((c) => c.name);
}

/** Every panel in the inventory, as targets (for `panels`, bulk and the interactive search). */
export function allTargets(inventory: InventoryFile): Target[] {
  return Object.entries(inventory.panels).map(([name, config]) => fromConfig(name, config, inventory));
}

/** `--limit site=oslo,customer=1042`: every pair must match a tag (or account/customer). */
export function matchesSelector(target: Target, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((pair) => {
    const [key, value] = pair.split('=', 2).map((s) => s.trim());
    if (value === undefined) return target.name === key;
    const actual = key === 'account' ? target.account : key === 'customer' ? target.customer : key === 'driver' ? target.driver : target.tags[key];
    return actual === value;
  });
}
