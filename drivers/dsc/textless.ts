import type { DriverFacets, DriverInfo, NewUser, OpenOptions, PanelInfo, PanelSession, Secret, UserSlot, UserWriter } from '../../src/driver-kit/index.js';
import {
  capabilitiesOf,
  NotSupportedError,
  OneShotCredentials,
  ProtocolError,
  UnreachableError,
  ValidationError,
  VerificationError,
  WrongCredentialError,
} from '../../src/driver-kit/index.js';
import { among, type Keypad, syntaxErrorOnCode } from './keypad.js';
import { Cmd, Led, MASTER_SLOT, slotKind, twoDigits } from './messages.js';
import type { Settings } from './settings.js';
import { MASTER_CHANGE_REFUSED, MASTER_DELETE_REFUSED, slotRangesUpTo } from './slot-rules.js';

/**
 * An Envisalink that sends no keypad text (options.lcdText: false; README, "What the sources say"). The driver
 * cannot see the [*][5] slot list, so it cannot list, pick a free slot, or read a write back. What it can see is
 * the 500 acknowledgement of every command and the keypad LEDs (510 state, 511 flash): the Program LED lights when
 * the master code opened [*][5] and goes out when [#] left it. Each write is therefore one whole visit: [*][5]
 * (072) and the master code, the slot and the code as 071 keys, [#], and the Program LED seen out again. Proof:
 * panel-ack, never more.
 */

/** What such a session offers: writes by slot, proven by the panel's acknowledgement only. */
export const TEXTLESS_FACETS: DriverFacets = {
  writer: { proofs: ['panel-ack'], nextSlot: false },
  reader: false,
  codeChecker: false,
  testMode: false,
  probe: true,
};

const WHY = 'this Envisalink sends no keypad text: options.lcdText is false';
const INSTEAD = 'an IT-100 on this panel (options.module: it100) sends the keypad text, so panelctl can list, pick and read back its slots';

/** The description of a panel declared without keypad text: its facets, and why it has no reader. */
export function textlessInfo(described: DriverInfo): DriverInfo {
  return {
    ...described,
    facets: TEXTLESS_FACETS,
    withoutReader: { why: WHY, instead: INSTEAD },
    // Only the walk test reads the installer code, and its state is shown only as text.
    secrets: described.secrets.filter((s) => s.name !== 'installer'),
  };
}

/** How long the way out waits for each answer (errors, Ctrl-C, close). */
const CLEANUP_MS = 3000;

interface Wait {
  useSignal?: boolean;
  timeoutMs?: number;
}

/** Partition states a status request may bring: news, not an answer to wait for or a refusal. */
const PARTITION_NEWS = among(Cmd.partitionReady, Cmd.partitionNotReady, Cmd.partitionBusy);

/** The Program LED as the module reports it: bit 5 of the latest 510 (state) or of the latest 511 (flashing). */
class ProgramLed {
  private state = 0;
  private flash = 0;
  /** 510/511 messages read so far: a wait can insist on news after some moment. */
  updates = 0;

  observe(command: string, data: string): void {
    if ((command !== Cmd.ledState && command !== Cmd.ledFlash) || !/^[0-9A-F]{2}$/.test(data)) return;
    if (command === Cmd.ledState) this.state = parseInt(data, 16);
    else this.flash = parseInt(data, 16);
    this.updates++;
  }

  /** Lit steadily or flashing: the manuals have it flash in [*][5]; the sources do not say which message shows that. */
  get lit(): boolean {
    return ((this.state | this.flash) & Led.program) !== 0;
  }
}

export class TextlessSession implements PanelSession, UserWriter {
  readonly writer: UserWriter = this;
  private readonly led = new ProgramLed();
  /** One attempt per session: after a 670 the master code is not sent again (keypads lock out). */
  private readonly credentials = new OneShotCredentials();
  /** From the first key towards [*][5] until the Program LED is seen out: an error must press [#] first. */
  private inMenu = false;

  constructor(
    readonly keypad: Keypad,
    private readonly options: OpenOptions,
    private readonly settings: Settings,
  ) {
    keypad.onEvent = (frame) => {
      this.led.observe(frame.command, frame.data);
      // After these the panel has left the code prompt by itself.
      if (frame.command === Cmd.invalidAccessCode || frame.command === Cmd.keypadLockout) this.inMenu = false;
    };
  }

  /**
   * At open: a status request, whose 510 tells the LEDs. A Program LED already lit is a [*][5] left open by a
   * dropped session: [#] takes the keypad out before anything else.
   */
  async reset(): Promise<void> {
    const mark = this.led.updates;
    await this.keypad.command(Cmd.statusRequest, '', '', { ignore: PARTITION_NEWS });
    await this.waitLeds(() => this.led.updates > mark, 'the keypad LED state (510) after a status request', {});
    if (this.led.lit) {
      this.inMenu = true;
      await this.leave({});
    }
  }

  /**
   * Waits until `ready()` holds, reading what the module sends. A timeout means either the link went quiet or the
   * module answers but never showed what was awaited: a poll tells the two apart (exit 4 against exit 5).
   */
  private async waitLeds(ready: () => boolean, what: string, wait: Wait, failure?: (what: string) => ProtocolError): Promise<void> {
    if (ready()) return;
    try {
      await this.keypad.until(() => (ready() ? true : undefined), { ...wait, ignore: PARTITION_NEWS });
    } catch (error) {
      if (!(error instanceof UnreachableError) || error.code !== 'E_TIMEOUT') throw error;
      await this.keypad.command(Cmd.poll, '', '', { ...wait, ignore: PARTITION_NEWS });
      throw (
        failure?.(what) ??
        new ProtocolError(`the module answers but did not report ${what}`, {
          hint: 'check that this Envisalink is on a DSC PowerSeries panel; see the dsc driver README ("What the sources say")',
        })
      );
    }
  }

  /** [*][5] (072) and the master code; the Program LED must light. A 670 is the one refusal of this session. */
  private async enterMenu(): Promise<void> {
    this.credentials.check();
    const master = this.options.secrets.code as Secret;
    const mark = this.keypad.frameSeq;
    this.inMenu = true; // from the first key on, an error must take the keypad back out
    await this.keypad.command(Cmd.userCodeProgramming, '1');
    await this.keypad.until((f) => (f.command === Cmd.masterCodeRequired || f.command === Cmd.codeRequired ? true : undefined), { since: mark });
    await this.credentials.attempt(
      async () => {
        const code = this.settings.padCodes ? master.reveal().padEnd(6, '0') : master.reveal();
        await this.keypad.command(Cmd.codeSend, code, '*'.repeat(code.length)).catch((error) => {
          throw syntaxErrorOnCode(error, this.settings.padCodes);
        });
        await this.waitLeds(
          () => this.led.lit,
          'the Program LED lighting after the master code',
          {},
          (what) =>
            new ProtocolError(`the module took the master code but neither reported ${what} nor refused it (670); nothing was keyed after it`, {
              hint: 'the keypad LEDs (510/511) are all panelctl can see on an Envisalink without keypad text; see the dsc driver README',
            }),
        );
      },
      () =>
        new WrongCredentialError('the panel refused the master code panelctl entered for it (invalid access code)', {
          data: { secret: 'code', panelMessage: '670' },
        }),
    );
  }

  /** [#], then a status request: the Program LED must be seen out in news that came after the key. */
  private async leave(wait: Wait): Promise<void> {
    const mark = this.led.updates;
    await this.keypad.press('#', '', wait);
    await this.keypad.command(Cmd.statusRequest, '', '', { ...wait, ignore: PARTITION_NEWS });
    await this.waitLeds(
      () => this.led.updates > mark && !this.led.lit,
      'the Program LED going out after [#]',
      wait,
      (what) =>
        new VerificationError(`the module acknowledged every key but did not report ${what}: the keypad may still be in [*][5]`, {
          hint: 'a keypad leaves [*][5] by itself after about two minutes without keys; check it before the next change',
        }),
    );
    this.inMenu = false;
  }

  /** Runs one visit to [*][5]; on any failure (Ctrl-C included) [#] is pressed and the LED watched first. */
  private async visit(work: () => Promise<void>): Promise<void> {
    try {
      await this.enterMenu();
      await work();
      await this.leave({});
    } catch (error) {
      if (this.inMenu && !this.keypad.channel.isLost) await this.leave({ useSignal: false, timeoutMs: CLEANUP_MS }).catch(() => undefined);
      throw error;
    }
  }

  private checkSlot(slot: number, action: 'add' | 'set-code' | 'remove'): void {
    if (!Number.isInteger(slot) || slot < 1 || slot > this.settings.highestSlot) {
      throw new ValidationError('--slot', `must be 01 to ${twoDigits(this.settings.highestSlot)} on this panel (options.maxUsers)`);
    }
    // The operations refuse these before connecting; the session holds the same line for any other caller.
    if (slot === MASTER_SLOT && action === 'remove') throw new ValidationError('--slot', MASTER_DELETE_REFUSED.reason);
    if (slot === MASTER_SLOT && !this.settings.allowMaster)
      throw new ValidationError('--slot', MASTER_CHANGE_REFUSED.reason, { hint: MASTER_CHANGE_REFUSED.hint });
  }

  /**
   * The code's length, and not the master code: the panel refuses a duplicate with its error tone only, which an
   * Envisalink without keypad text does not report, so the one duplicate panelctl knows of is refused here.
   */
  private checkNewCode(slot: number, code: Secret): void {
    const n = this.settings.codeLength;
    if (!/^\d+$/.test(code.reveal()) || code.length !== n) throw new ValidationError('new code', `must be ${n} digits on this panel (options.codeLength)`);
    if (slot !== MASTER_SLOT && code.reveal() === this.options.secrets.code?.reveal()) {
      throw new ValidationError('new code', 'is the master code: the panel refuses a code another slot holds (choose another, or --generate one)');
    }
  }

  /** The slot, the code digits (masked in traces) or [*] to delete, as 071 key strings. */
  private async keySlot(slot: number, code: Secret | undefined): Promise<void> {
    await this.keypad.press(twoDigits(slot) + (code ? code.reveal() : '*'), code ? `00${'*'.repeat(code.length)}` : '');
  }

  async createUser(user: NewUser): Promise<UserSlot> {
    if (user.slot === undefined) {
      throw new NotSupportedError(`the dsc driver cannot pick a free slot on this panel (${WHY}): give --slot`, {
        hint: `${INSTEAD}; \`panelctl audit show --panel NAME\` lists what panelctl itself changed`,
      });
    }
    const slot = user.slot;
    this.checkSlot(slot, 'add');
    this.checkNewCode(slot, user.code);
    await this.visit(() => this.keySlot(slot, user.code));
    return { slot, kind: slotKind(slot), hasCode: true, editable: slot !== MASTER_SLOT || this.settings.allowMaster };
  }

  async changeCode(slot: number, code: Secret): Promise<void> {
    this.checkSlot(slot, 'set-code');
    this.checkNewCode(slot, code);
    await this.visit(() => this.keySlot(slot, code));
  }

  async deleteUser(slot: number): Promise<void> {
    this.checkSlot(slot, 'remove');
    await this.visit(() => this.keySlot(slot, undefined));
  }

  async info(): Promise<PanelInfo> {
    return {
      driver: 'dsc',
      model: 'DSC PowerSeries',
      module: 'Envisalink TPI (no keypad text)',
      slotRanges: slotRangesUpTo(this.settings.highestSlot, this.settings.allowMaster),
      capabilities: capabilitiesOf(TEXTLESS_FACETS),
      codeRules: { minLength: this.settings.codeLength, maxLength: this.settings.codeLength, allowedLengths: [this.settings.codeLength] },
      details: {
        'highest slot': this.settings.highestSlot,
        'keypad text': 'none: writes by slot, proven by the acknowledgements and the Program LED (not read back)',
        names: 'none (DSC keeps no user names)',
      },
    };
  }

  async close(): Promise<void> {
    try {
      if (this.inMenu && !this.keypad.channel.isLost) await this.leave({ useSignal: false, timeoutMs: CLEANUP_MS });
    } catch {
      // the line may be gone already; the keypad times out by itself
    } finally {
      await this.keypad.channel.close();
    }
  }
}
