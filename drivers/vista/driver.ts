import type {
  ByteStream,
  DriverInfo,
  DriverOptions,
  NewUser,
  OpenOptions,
  PanelDriver,
  PanelInfo,
  PanelSession,
  ProbeOptions,
  ProbeResult,
  Link,
  Secret,
  SlotRange,
  TestModeControl,
  TestState,
  UserSlot,
  UserWriter,
} from '../../src/driver-kit/index.js';
import {
  capabilitiesOf,
  connect,
  FrameChannel,
  NotSupportedError,
  PanelRefusedError,
  UnreachableError,
  ValidationError,
  MenuGuard,
  OneShotCredentials,
  optionHelpOf,
  parseDriverOptions,
  WrongCredentialError,
} from '../../src/driver-kit/index.js';
import { Ad2Decoder, type Ad2Frame } from './codec.js';
import { Ad2Keypad, pause } from './keypad.js';
import {
  CODE_LENGTH,
  changeMasterCode,
  deleteUser,
  FIRST_USER,
  INSTALLER_USER,
  type KeySequence,
  MASTER_USER,
  MAX_USER,
  setUserCode,
  startTest,
  stopTest,
  twoDigits,
} from './keys.js';
import { optionsSchema, type VistaOptions } from './options.js';
import { isAck } from './panel.js';
import { showsTest } from './screens.js';
import { INSTALLER_REFUSED, MASTER_CHANGE_REFUSED, MASTER_DELETE_REFUSED, withSlotRules } from './slot-rules.js';

/**
 * Honeywell / Ademco VISTA through an AlarmDecoder. The panel takes user codes only as keypad
 * sequences (master + 8 + user + code) and answers with one beep; nothing can be read back, so the
 * session has a writer and test mode but no reader, and every write is proven by that beep
 * (`panel-ack`). README.md has the facts, their sources, and what we had to assume.
 */

const SLOT_RANGES: SlotRange[] = [
  { from: INSTALLER_USER, to: INSTALLER_USER, kind: 'installer' },
  { from: MASTER_USER, to: MASTER_USER, kind: 'master' },
  { from: FIRST_USER, to: MAX_USER, kind: 'user' },
];

const info: DriverInfo = {
  name: 'vista',
  title: 'Honeywell VISTA through an AlarmDecoder (AD2USB / AD2PI / AD2SERIAL, ser2sock)',
  transports: ['tcp', 'serial'],
  defaultTcpPort: 10000,
  defaultSerial: { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
  // Codes cannot be read back or checked: a write is proven only by the panel's one beep.
  facets: { writer: { proofs: ['panel-ack'], nextSlot: false }, reader: false, codeChecker: false, testMode: true, probe: true },
  codeRules: { minLength: CODE_LENGTH, maxLength: CODE_LENGTH },
  userNames: false,
  addRefuses: {
    partitions: 'vista panels take a code for a user number, nothing more: partitions are programmed at the panel',
    type: 'vista panels take a code for a user number, nothing more: the authority level is programmed at the panel',
  },
  credentialLockout: { note: 'VISTA keypads lock out after repeated wrong codes; panelctl never sends a code again once a sequence was not acknowledged' },
  slotRanges: withSlotRules(SLOT_RANGES, false),
  secrets: [{ name: 'code', label: 'VISTA master code (user 02)', required: true }],
  options: optionHelpOf(optionsSchema),
};

/** The options as options.ts declares them, with their defaults. */
type Settings = VistaOptions;

/** Extra wait after the panel's key timeout before an interrupted session lets go. */
const SETTLE_MARGIN_MS = 300;

/** The inventory options, parsed by the schema of options.ts (every problem named by its field, exit 2). */
export function settingsFor(options: DriverOptions): Settings {
  return parseDriverOptions(optionsSchema, options);
}

/** The user slots end at options.maxUser; a bad option is the same exit 2 here as at open(), before any contact. */
function describeFor(options: DriverOptions): DriverInfo {
  const { maxUser, allowMaster } = settingsFor(options);
  return {
    ...info,
    slotRanges: withSlotRules(
      SLOT_RANGES.map((r) => (r.kind === 'user' ? { ...r, to: maxUser } : r)),
      allowMaster,
    ),
  };
}

function checkCode(code: Secret, what = 'new code'): void {
  if (!/^\d{4}$/.test(code.reveal())) throw new ValidationError(what, 'must be 4 digits on a VISTA');
}

/** What the keypad may be left holding: a half-typed entry, or a walk test an interrupted start may have begun. */
type Pending = 'entry' | 'test';

/** A writer and test mode; no reader and no code checker: a VISTA cannot say which codes it holds. */
export class VistaSession implements PanelSession, UserWriter {
  readonly writer: UserWriter = this;
  readonly testMode: TestModeControl;
  /**
   * One refusal and the master code is never typed again in this session. A VISTA's silence cannot
   * say whether the code was wrong, but the safe answer is the same, so it is a WrongCredentialError:
   * bulk and the shell then stop using the credential on this panel too.
   */
  private readonly credentials = new OneShotCredentials();
  /** Every operation runs in it: on any failure (Ctrl-C included) the keypad is left idle first. */
  private readonly guard = new MenuGuard<Pending>((pending) => this.leaveIdle(pending));
  /** Every key of the current sequence went out (so the panel has the whole entry, not half of it). */
  private allKeysOut = true;
  private master: Secret;

  constructor(
    readonly keypad: Ad2Keypad,
    private readonly options: OpenOptions,
    readonly settings: Settings,
  ) {
    this.master = options.secrets.code as Secret;
    this.testMode = {
      start: () => this.guard.run(() => this.walkTest(true)),
      stop: () => this.guard.run(() => this.walkTest(false)),
      status: () => this.guard.run(async () => this.testState()),
    };
  }

  /**
   * A VISTA has no key that clears an entry: it drops a half-typed one after a few seconds without
   * keys (README), so that is waited out, plus a margin for the last key still on its way. A walk
   * test whose keys all went out is ended again (code + OFF, typed even after Ctrl-C) if it started.
   */
  private async leaveIdle(pending: Pending): Promise<void> {
    if (this.keypad.channel.isLost) return;
    if (!this.allKeysOut) {
      await pause(this.settings.keyTimeoutMs + SETTLE_MARGIN_MS);
      this.allKeysOut = true;
      return;
    }
    if (pending !== 'test') return;
    const quick = { useSignal: false, timeoutMs: this.settings.ackTimeoutMs };
    const started = await this.keypad
      .untilKeypad((m) => (showsTest(m.text) ? true : undefined), quick)
      .catch((error: unknown) => {
        if (error instanceof UnreachableError && error.code === 'E_TIMEOUT') return false;
        throw error;
      });
    if (!started) return;
    await this.type(stopTest(this.master), { useSignal: false });
    await this.keypad.untilKeypad((m) => (showsTest(m.text) ? undefined : true), quick);
  }

  /** Types a sequence; until its last key is out the keypad holds a half entry. Never after a refusal. */
  private async type(sequence: KeySequence, options: { useSignal?: boolean } = {}): Promise<void> {
    this.credentials.check();
    this.allKeysOut = false;
    await this.keypad.type(sequence, options);
    this.allKeysOut = true;
  }

  private checkIdle(what: string): void {
    const display = this.keypad.display;
    if (display.programming) {
      throw new UnreachableError('E_BUSY', `the panel is in programming mode (an installer at a keypad): cannot ${what} now`, {
        hint: 'try again when the installer has left programming mode (*99)',
      });
    }
    if (display.armed) throw new PanelRefusedError('E_ARMED', `the panel is armed: panelctl does not ${what} on an armed VISTA`, { hint: 'disarm it first' });
  }

  /**
   * Types a code sequence and waits for the panel's one beep. Silence while the panel keeps sending
   * keypad messages is a refusal; no message at all is a lost answer (the outcome is unknown).
   */
  private async acknowledged(sequence: KeySequence, extraWaitMs = 0): Promise<void> {
    this.checkIdle(sequence.what);
    if (this.keypad.display.testActive) {
      throw new PanelRefusedError('E_TEST_ACTIVE', `the panel is in walk test: panelctl does not ${sequence.what} during a test`, {
        hint: 'end the test first (panelctl test-mode stop)',
      });
    }
    this.guard.entering('entry');
    await this.type(sequence);
    const mark = this.keypad.frameSeq;
    const waitMs = this.settings.ackTimeoutMs + extraWaitMs;
    let heard = 0;
    await this.credentials.attempt(async () => {
      try {
        await this.keypad.untilKeypad(
          (m) => {
            heard++;
            return isAck(m) ? true : undefined;
          },
          { timeoutMs: waitMs, since: mark },
        );
      } catch (error) {
        if (!(error instanceof UnreachableError && error.code === 'E_TIMEOUT')) throw error;
        if (heard === 0) {
          throw new UnreachableError(
            'E_TIMEOUT',
            `no keypad message from the panel within ${waitMs} ms after the keys to ${sequence.what}: the outcome is unknown`,
            {
              hint: 'the AlarmDecoder or the keypad bus went quiet; check the panel before trying again (a VISTA cannot be asked what it did)',
              transient: false,
            },
          );
        }
        throw new WrongCredentialError(
          `the panel did not acknowledge the keys to ${sequence.what} (no confirmation beep within ${waitMs} ms; the keypad shows "${this.keypad.shown}")`,
          {
            hint: 'the master code may be wrong, the user number beyond this panel (options.maxUser), or the code already used by another user; panelctl will not send the master code again in this session, to avoid a keypad lockout',
            data: { secret: 'code', panelAnswer: 'no confirmation beep' },
          },
        );
      }
    });
    this.guard.left();
  }

  private checkUser(slot: number, action: 'set' | 'delete'): void {
    if (!Number.isInteger(slot) || slot < 1 || slot > this.settings.maxUser) {
      throw new ValidationError(
        '--slot',
        `must be a user number from ${twoDigits(FIRST_USER)} to ${twoDigits(this.settings.maxUser)} on this panel (options.maxUser)`,
      );
    }
    // The operations refuse these before connecting (slot-rules.ts); the session holds the same line for any other caller.
    if (slot === INSTALLER_USER) throw new ValidationError('--slot', INSTALLER_REFUSED.reason);
    if (slot === MASTER_USER && action === 'delete') throw new ValidationError('--slot', MASTER_DELETE_REFUSED.reason);
    if (slot === MASTER_USER && !this.settings.allowMaster)
      throw new ValidationError('--slot', MASTER_CHANGE_REFUSED.reason, { hint: MASTER_CHANGE_REFUSED.hint });
  }

  private toSlot(slot: number): UserSlot {
    return { slot, kind: slot === MASTER_USER ? 'master' : 'user', hasCode: true, editable: slot !== MASTER_USER || this.settings.allowMaster };
  }

  async info(): Promise<PanelInfo> {
    const display = this.keypad.display;
    return {
      driver: 'vista',
      model: 'Honeywell VISTA',
      firmware: this.keypad.version ? `AlarmDecoder ${this.keypad.version}` : undefined,
      module: 'AlarmDecoder',
      slotRanges: describeFor(this.options.options).slotRanges,
      capabilities: capabilitiesOf(info.facets),
      codeRules: info.codeRules,
      details: {
        'keypad address': this.settings.address,
        display: this.keypad.shown,
        ready: display.ready,
        'walk test': display.testActive,
        users: 'write-only (a VISTA cannot list or read user codes)',
      },
    };
  }

  createUser(user: NewUser): Promise<UserSlot> {
    return this.guard.run(async () => {
      if (user.slot === undefined) {
        throw new NotSupportedError('a VISTA cannot tell which user numbers are free: give the user number (--slot)', {
          hint: 'a VISTA keeps user codes write-only: `panelctl audit show --panel NAME` lists what panelctl itself changed on it',
        });
      }
      this.checkUser(user.slot, 'set');
      checkCode(user.code);
      await this.writeCode(user.slot, user.code);
      return this.toSlot(user.slot);
    });
  }

  changeCode(slot: number, code: Secret): Promise<void> {
    return this.guard.run(async () => {
      this.checkUser(slot, 'set');
      checkCode(code);
      await this.writeCode(slot, code);
    });
  }

  private async writeCode(slot: number, code: Secret): Promise<void> {
    if (slot === MASTER_USER) {
      await this.acknowledged(changeMasterCode(this.master, code));
      this.master = code; // the panel now knows the master by its new code
      return;
    }
    await this.acknowledged(setUserCode(this.master, slot, code));
  }

  deleteUser(slot: number): Promise<void> {
    return this.guard.run(async () => {
      this.checkUser(slot, 'delete');
      // Without an ending key the panel deletes after the keypad has been quiet for its key timeout.
      const extra = this.settings.deleteKeys === 'wait' ? this.settings.keyTimeoutMs : 0;
      await this.acknowledged(deleteUser(this.master, slot, this.settings.deleteKeys), extra);
    });
  }

  // ---- the walk test: code + 5 (+ 0), ended with code + 1 ----

  private testState(): TestState {
    return { active: this.keypad.display.testActive, mode: 'walk test' };
  }

  private async walkTest(on: boolean): Promise<TestState> {
    if (this.keypad.display.testActive === on) return this.testState();
    this.checkIdle(on ? 'start the walk test' : 'end the walk test');
    this.guard.entering(on ? 'test' : 'entry');
    await this.type(on ? startTest(this.master, this.settings.walkPrompt) : stopTest(this.master));
    await this.credentials.attempt(async () => {
      try {
        await this.keypad.untilKeypad((m) => (showsTest(m.text) === on ? true : undefined), { timeoutMs: this.settings.ackTimeoutMs });
      } catch (error) {
        if (!(error instanceof UnreachableError && error.code === 'E_TIMEOUT')) throw error;
        if (!on) throw new UnreachableError('E_TIMEOUT', `the keypad still shows "${this.keypad.shown}" after the keys to end the walk test`);
        throw new WrongCredentialError(`the panel did not start the walk test (the keypad shows "${this.keypad.shown}")`, {
          hint: 'a VISTA starts a walk test only disarmed and ready (no zone faulted), and only for a valid code; panelctl will not send the code again in this session',
          data: { secret: 'code', panelAnswer: 'no test display' },
        });
      }
    });
    this.guard.left();
    return this.testState();
  }

  async close(): Promise<void> {
    try {
      await this.guard.leave();
    } catch {
      // the line may be gone already; the keypad drops a half-typed entry by itself
    } finally {
      await this.keypad.close();
    }
  }
}

/**
 * Asks the AlarmDecoder for its version (V) and waits for the first keypad message for our
 * address: it says whether the panel is armed, in programming mode or in walk test. Our own V
 * coming back is an echo (E_ECHO).
 */
export async function vistaSession(keypad: Ad2Keypad, options: OpenOptions, settings: Settings): Promise<VistaSession> {
  try {
    await keypad.command('V');
    await keypad.untilKeypad((m) => m);
    return new VistaSession(keypad, options, settings);
  } catch (error) {
    await keypad.close().catch(() => undefined);
    throw error;
  }
}

export const driver: PanelDriver = {
  describe: () => info,
  describeFor: async (options) => describeFor(options),

  async open(options: OpenOptions): Promise<PanelSession> {
    const settings = settingsFor(options.options);
    const master = options.secrets.code;
    if (!master) throw new ValidationError('secret', 'the VISTA master code (user 02) is needed: secret: in the inventory');
    checkCode(master, 'secret');
    const stream = await connect(options.link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    const keypad = new Ad2Keypad(stream, {
      address: settings.address,
      keyIntervalMs: settings.keyIntervalMs,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      trace: options.trace,
    });
    return vistaSession(keypad, options, settings);
  },

  /** Sends V: an AlarmDecoder answers !VER (or keeps sending keypad messages). No key is sent. */
  async probe(link: Link, options: ProbeOptions): Promise<ProbeResult | undefined> {
    const stream = await connect(link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    try {
      return await identify(stream, options);
    } finally {
      await stream.close();
    }
  },
};

/** What answers on an open AlarmDecoder link: `!VER`, or keypad messages in Ademco mode; undefined otherwise. */
async function identify(stream: ByteStream, options: ProbeOptions): Promise<ProbeResult | undefined> {
  const channel = new FrameChannel(stream, new Ad2Decoder(), 'AlarmDecoder');
  try {
    await channel.send(Buffer.from('V\r', 'latin1'));
    const deadline = Date.now() + options.timeoutMs;
    const wanted = (f: Ad2Frame) => f.kind === 'version' || f.kind === 'keypad' || f.kind === 'client' || f.kind === 'malformed';
    const first = await channel.next(wanted, options, true);
    if (first.kind === 'client' || first.kind === 'malformed' || (first.kind === 'keypad' && first.message.panelType === 'D')) return undefined;
    const model = 'Honeywell VISTA behind an AlarmDecoder';
    if (first.kind === 'version') return { driver: 'vista', model, firmware: first.version };
    // Keypad messages came first: the answer to V may still be on its way (older firmware may not answer).
    const version = await channel.next((f) => f.kind === 'version', { ...options, timeoutMs: Math.max(1, deadline - Date.now()) }, true).catch(() => undefined);
    return { driver: 'vista', model, firmware: version?.kind === 'version' ? version.version : undefined };
  } catch {
    return undefined;
  }
}
