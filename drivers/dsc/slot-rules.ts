import type { SlotRange } from '../../src/driver-kit/index.js';
import { SLOT_RANGES } from './messages.js';

/**
 * Slot rules that depend only on the inventory and the slot number (issue 17 item 3): declared in
 * the driver's description, so the operations refuse them before connecting (exit 2) and the
 * panel never sees a master-code entry for them.
 */

export const MASTER_CHANGE_REFUSED = {
  reason: 'slot 40 is the master code, which panelctl logs in with; it is changed only when asked explicitly',
  hint: 'set the driver option allowMaster: true for this panel (and update the configured master code right after)',
};
export const MASTER_DELETE_REFUSED = { reason: 'slot 40 is the master code: a DSC panel lets it be changed but never deleted' };

/** Slot 40's local rules (issue 17 item 3): known from the inventory alone, so refused before connecting. */
export function withMasterRules(ranges: SlotRange[], allowMaster: boolean): SlotRange[] {
  return ranges.map((r) =>
    r.kind === 'master'
      ? { ...r, refuse: { remove: MASTER_DELETE_REFUSED, ...(allowMaster ? {} : { add: MASTER_CHANGE_REFUSED, 'set-code': MASTER_CHANGE_REFUSED }) } }
      : r,
  );
}

/** The model's slots: PC1616 stops at 32 users, PC1832 at 72, PC1864 at 95 (duress, master, supervisor stay). */
export function slotRangesUpTo(highestSlot: number, allowMaster = false): SlotRange[] {
  return withMasterRules(SLOT_RANGES, allowMaster)
    .filter((r) => r.from <= highestSlot)
    .map((r) => ({ ...r, to: Math.min(r.to, highestSlot) }));
}
