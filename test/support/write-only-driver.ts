import { capabilitiesOf, type DriverInfo, type NewUser, type PanelDriver, type PanelSession, type UserSlot, type UserWriter } from '../../src/core/contract.js';
import { PanelRefusedError } from '../../src/core/errors.js';
import type { Secret } from '../../src/core/secret.js';

/**
 * A panel that takes user writes and acknowledges them, and offers no way to read anything back
 * (like a keypad-emulation panel without LCD text): the contract-v2 write-only case of issue 15.
 * Its "simulator" is this in-memory model; the test holds it and counts what reached it.
 */
export class WriteOnlyPanel {
  readonly codes = new Map<number, string>();
  /** Every write that reached the panel, in order ("create 3", "change 3", "delete 3"). */
  readonly writes: string[] = [];
  readonly highestSlot = 32;

  /** The panel picks the lowest free slot when none is named (the driver can then offer --next). */
  create(user: NewUser): number {
    const slot = user.slot ?? [...Array(this.highestSlot).keys()].map((i) => i + 1).find((s) => !this.codes.has(s));
    if (slot === undefined) throw new PanelRefusedError('E_FULL', 'the panel has no free slot');
    if (this.codes.has(slot)) throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${slot} is already used`);
    this.codes.set(slot, user.code.reveal());
    this.writes.push(`create ${slot}`);
    return slot;
  }

  change(slot: number, code: Secret): void {
    if (!this.codes.has(slot)) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`);
    this.codes.set(slot, code.reveal());
    this.writes.push(`change ${slot}`);
  }

  delete(slot: number): void {
    this.codes.delete(slot);
    this.writes.push(`delete ${slot}`);
  }
}

export function writeOnlyInfo(options: { nextSlot: boolean; name?: string }): DriverInfo {
  return {
    name: options.name ?? 'writeonly',
    title: 'write-only test panel (acknowledges writes, reads nothing back)',
    transports: ['tcp'],
    facets: { writer: { proofs: ['panel-ack'], nextSlot: options.nextSlot }, reader: false, codeChecker: false, testMode: false, probe: false },
    codeRules: { minLength: 4, maxLength: 6 },
    slotRanges: [{ from: 1, to: 32, kind: 'user' }],
    secrets: [],
    userNames: false,
    addRefuses: { type: 'the write-only test panel has no user types' },
  };
}

/** The driver over one WriteOnlyPanel; `nextSlot: false` makes a variant that cannot pick a slot. */
export function writeOnlyDriver(panel: WriteOnlyPanel, options: { nextSlot: boolean; name?: string } = { nextSlot: true }): PanelDriver {
  const info = writeOnlyInfo(options);
  return {
    describe: () => info,
    async open(): Promise<PanelSession> {
      const writer: UserWriter = {
        async createUser(user: NewUser): Promise<UserSlot> {
          const slot = panel.create(user);
          return { slot, kind: 'user', hasCode: true };
        },
        async changeCode(slot, code) {
          panel.change(slot, code);
        },
        async deleteUser(slot) {
          panel.delete(slot);
        },
      };
      return {
        writer,
        info: async () => ({
          driver: info.name,
          model: 'write-only test panel',
          slotRanges: info.slotRanges,
          capabilities: capabilitiesOf(info.facets),
          codeRules: info.codeRules,
        }),
        close: async () => undefined,
      };
    },
  };
}
