import type { SlotRange } from '../../src/driver-kit/index.js';

/**
 * User numbers panelctl never writes, or writes only when asked, known from the inventory alone:
 * declared in the driver's description so `users ... --slot` refuses them before connecting
 * (exit 2) and `bulk plan` makes their rows conflicts. A VISTA cannot be read, so without these a
 * blind bulk step would only be refused by the session, after it was journalled as started.
 */

export const INSTALLER_REFUSED = { reason: 'user 01 is the installer code: panelctl never changes it' };
export const MASTER_DELETE_REFUSED = { reason: 'user 02 is the master code: it can be changed, never deleted' };
export const MASTER_CHANGE_REFUSED = {
  reason: 'user 02 is the master code, which panelctl types for every change; it is changed only when asked explicitly',
  hint: 'set the driver option allowMaster: true for this panel (and update the configured master code right after)',
};

/** The installer's and the master's rules on the description's ranges; the master's change depends on allowMaster. */
export function withSlotRules(ranges: SlotRange[], allowMaster: boolean): SlotRange[] {
  return ranges.map((r) => {
    if (r.kind === 'installer') return { ...r, refuse: { add: INSTALLER_REFUSED, 'set-code': INSTALLER_REFUSED, remove: INSTALLER_REFUSED } };
    if (r.kind === 'master')
      return { ...r, refuse: { remove: MASTER_DELETE_REFUSED, ...(allowMaster ? {} : { add: MASTER_CHANGE_REFUSED, 'set-code': MASTER_CHANGE_REFUSED }) } };
    return r;
  });
}
