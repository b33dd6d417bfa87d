/**
 * Resource paths of the MAP 5000 REST API (formerly OII) that panelctl uses, and the rules for the
 * identifiers that go into them. Sources: OpenAPI description 1.4.0272 as published in
 * sanjay900/bosch-alarm-map (openapi.json, docs/*.md); see README.md "Spec facts relied on".
 */

/** User ids run 4..998 (docs/UsermodelApi.md: "Possible user IDs are in the range from 4 to 998"). */
export const FIRST_USER_ID = 4;
export const LAST_USER_ID = 998;

export const PATHS = {
  /** Panel description: model, firmware, main resources (digest). The probe asks this one. */
  desc: '/desc',
  /** Every user without secrets (digest, no licence needed). */
  users: '/users',
  /** The sync ids of every database table (clientCert + digest). */
  syncStatus: '/syncstatus',
  /** Create, modify, delete one user (clientCert + digest, MUM licence). */
  userModel: '/usermodel',
  /** Every area and its walk test link (digest). */
  areas: '/areas',
  /** Every running walk test (digest). */
  walktests: '/walktests',
} as const;

export function isUserId(slot: number): boolean {
  return Number.isInteger(slot) && slot >= FIRST_USER_ID && slot <= LAST_USER_ID;
}

/** The panel writes user ids with three digits: 4 is "004" (every example in the description). */
export function formatUserId(slot: number): string {
  if (!isUserId(slot)) throw new RangeError(`MAP user id must be ${FIRST_USER_ID}..${LAST_USER_ID}, got ${slot}`);
  return String(slot).padStart(3, '0');
}

/** "004" -> 4; anything else (not 1..3 digits, outside 4..998) -> undefined. */
export function parseUserId(text: string): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const slot = Number(text);
  return isUserId(slot) ? slot : undefined;
}

export function userModelPath(slot: number): string {
  return `/usermodel/${formatUserId(slot)}`;
}

/**
 * An area SIID as the panel links it: "/1.1.Area.2.2", "/1.1.ControlPanelArea.1.1". Only these
 * characters are accepted, so a SIID taken from an answer cannot smuggle a query or another path.
 */
export function isAreaPath(text: string): boolean {
  return /^\/\d+\.\d+\.[A-Za-z]*Area\.\d+\.\d+$/.test(text);
}

/** A walk test link: "/walktest/9D52EB98315140069B9EC23CE431398E" (32 hex digits in every example). */
export function isWalktestPath(text: string): boolean {
  return /^\/walktest\/[0-9A-Fa-f]{32}$/.test(text);
}
