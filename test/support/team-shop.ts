import type { FakeStation } from './station.js';

/**
 * The team-mode e2e tests' one panel: an INTEGRA simulator "bergen-shop" reported to a webhook station, and the
 * environment an engineer runs panelctl with against a shared store.
 */
export function shopInventory(station: FakeStation, port: number): string {
  return `stations:
  central:
    type: webhook
    url: ${station.url}
    secret: env:STATION_KEY
panels:
  bergen-shop:
    driver: integra
    link: tcp://127.0.0.1:${port}
    secret: env:SHOP_CODE
    account: "4711"
    station: central
`;
}

export function shopEnv(station: FakeStation, state: string, operator: string): NodeJS.ProcessEnv {
  return { PANELCTL_STATE: state, PANELCTL_OPERATOR: operator, SHOP_CODE: '1111', STATION_KEY: station.key };
}
