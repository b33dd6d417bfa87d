import { capabilitiesOf, type DriverInfo, type PanelSession, type UserSlot } from '../../src/core/contract.js';

/** A session that can only read: it lists and reads `users` and describes itself from `info` (tests of what is refused before any write). */
export function readOnlySession(info: DriverInfo, users: UserSlot[]): PanelSession {
  return {
    reader: { listUsers: async () => users, readUser: async (slot) => users.find((u) => u.slot === slot) },
    info: async () => ({
      driver: info.name,
      model: info.title,
      slotRanges: info.slotRanges,
      capabilities: capabilitiesOf(info.facets),
      codeRules: info.codeRules,
    }),
    close: async () => undefined,
  };
}
