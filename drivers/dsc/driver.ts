import type {
  DriverInfo,
  DriverOptions,
  ListProgress,
  NewUser,
  OpenOptions,
  PanelDriver,
  PanelInfo,
  PanelSession,
  ProbeOptions,
  ProbeResult,
  TestModeControl,
  TestState,
  UserReader,
  UserSlot,
  UserWriter,
} from '../../src/driver-kit/index.js';
import {
  capabilitiesOf,
  MenuGuard,
  NotSupportedError,
  OneShotCredentials,
  PanelRefusedError,
  UnreachableError,
  UsageError,
  ValidationError,
  VerificationError,
  WrongCredentialError,
} from '../../src/driver-kit/index.js';
import type { Secret } from '../../src/driver-kit/index.js';
import { connect } from '../../src/driver-kit/index.js';
import { FrameChannel } from '../../src/driver-kit/index.js';
import type { Link } from '../../src/driver-kit/index.js';
import { DscDecoder, encodeMessage } from './codec.js';
import { among, type Keypad, newKeypad, syntaxErrorOnCode } from './keypad.js';
import { Cmd, Login, MASTER_SLOT, MAX_SLOT, SLOT_RANGES, slotKind, twoDigits } from './messages.js';
import type { Display } from './screens.js';
import { dscOptions, type Settings, settingsFor } from './settings.js';
import { MASTER_CHANGE_REFUSED, MASTER_DELETE_REFUSED, slotRangesUpTo, withMasterRules } from './slot-rules.js';
import { TextlessSession, textlessInfo } from './textless.js';

/**
 * DSC PowerSeries (PC1616/1832/1864) through the IT-100 serial module or the Envisalink TPI. The
 * panel has no user-code commands: the driver drives a virtual keypad through the [*][5] menu and
 * reads the LCD, as an installer would. See README.md for the spec facts and assumptions.
 */

const info: DriverInfo = {
  name: 'dsc',
  title: 'DSC PowerSeries (IT-100 / Envisalink TPI)',
  transports: ['tcp', 'serial'],
  defaultTcpPort: 4025,
  defaultSerial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  // Writes are proven by reading the [*][5] slot back on the LCD; the panel cannot check a code.
  facets: { writer: { proofs: ['read-back'], nextSlot: true }, reader: true, codeChecker: false, testMode: true, probe: true },
  codeRules: { minLength: 4, maxLength: 6, allowedLengths: [4, 6] },
  userNames: false,
  addRefuses: {
    partitions: 'dsc panels take a code in a slot, nothing more: partition access is programmed at the panel (installer section)',
    type: 'dsc panels take a code in a slot, nothing more: the slot decides what kind of code it is (see `panelctl info`)',
  },
  // PowerSeries installation manuals: keypad lockout after a programmed number of invalid codes (may be off).
  credentialLockout: { note: 'DSC panels lock the keypad after the number of wrong codes the installer programmed (keypad lockout)' },
  slotRanges: withMasterRules(SLOT_RANGES, false),
  secrets: [
    { name: 'code', label: 'DSC master code (slot 40)', required: true },
    { name: 'tpiPassword', label: 'Envisalink TPI password', required: false },
    { name: 'installer', label: 'DSC installer code (for the walk test)', required: false, neededFor: ['test-mode'], requiredFor: ['test-mode'] },
  ],
  options: [
    { name: 'codeLength', description: "4 or 6: the code length the panel is set to (default: the master code's length)" },
    { name: 'maxUsers', description: 'the highest user slot of this panel: 32 (PC1616), 48..72 (PC1832), 95 (PC1864, the default)' },
    { name: 'allowMaster', description: 'true to let set-code change the master code in slot 40 (refused otherwise)' },
    { name: 'module', description: 'envisalink or it100 (default: envisalink on tcp://, it100 on serial)' },
    {
      name: 'lcdText',
      description:
        'false for an Envisalink that sends no keypad text (what the public sources show): add, set-code and remove by slot, proven by the acknowledgements only; no list',
    },
    {
      name: 'padCodes',
      description: 'true to send a 4-digit code padded with 00 to six digits when entering it (default: true on an IT-100, false on an Envisalink)',
    },
  ],
};

/** maxUsers, codeLength, allowMaster and lcdText from the inventory, known before connecting (the master code's length is not). */
function describeFor(options: DriverOptions): DriverInfo {
  const o = dscOptions(options);
  const described: DriverInfo = {
    ...info,
    slotRanges: slotRangesUpTo(Math.max(o.maxUsers ?? MAX_SLOT, 42), o.allowMaster ?? false),
    codeRules: o.codeLength ? { minLength: o.codeLength, maxLength: o.codeLength, allowedLengths: [o.codeLength] } : info.codeRules,
  };
  return o.lcdText === false ? textlessInfo(described) : described;
}

/** How long to wait for the panel when leaving a menu on the way out (errors, Ctrl-C). */
const CLEANUP_MS = 3000;

type Menu = 'users' | 'installer';

class DscSession implements PanelSession, UserWriter, UserReader {
  readonly writer: UserWriter = this;
  readonly reader: UserReader = this;
  /** From the first key into a menu on, any failure takes the keypad back out. */
  private readonly menus = new MenuGuard<Menu>(() => this.pressHashUntilIdle());
  /** One attempt per code: after a 670 this session sends no code again (keypads lock out). */
  private readonly credentials = new OneShotCredentials();
  readonly testMode: TestModeControl;

  constructor(
    readonly keypad: Keypad,
    private readonly options: OpenOptions,
    private readonly settings: Settings,
  ) {
    keypad.onEvent = (frame) => {
      // After these the panel has left the code prompt by itself.
      if (frame.command === Cmd.invalidAccessCode || frame.command === Cmd.keypadLockout) this.menus.left();
    };
    this.testMode = {
      unavailable: () =>
        this.options.secrets.installer ? undefined : 'the walk test needs the installer code: add secrets.installer to this panel in the inventory',
      start: () => this.guard(() => this.walkTest(true)),
      stop: () => this.guard(() => this.walkTest(false)),
      status: () => this.guard(() => this.walkTestState()),
    };
  }

  /** Runs one operation; on any failure (abort included) the keypad is taken out of its menu first. */
  private guard<T>(work: () => Promise<T>): Promise<T> {
    return this.menus.run(work);
  }

  async leaveMenu(): Promise<void> {
    await this.menus.leave();
  }

  /** Presses [#] until the keypad shows its idle screen (at most three times). Ignores Ctrl-C: it is the way out. */
  private async pressHashUntilIdle(): Promise<void> {
    if (this.keypad.channel.isLost) return;
    const quick = { useSignal: false, timeoutMs: CLEANUP_MS };
    // Interrupted between [*][5] and the prompt, the LCD model may still say idle: ask the panel.
    let display = this.keypad.display.screen === 'idle' ? await this.refresh(quick) : this.keypad.display;
    for (let i = 0; i < 3 && display.screen !== 'idle'; i++) {
      const since = this.keypad.lcdSeq;
      await this.keypad.press('#', '', quick);
      display = await this.keypad.waitDisplay((d) => (d.screen === 'idle' || d.screen === 'select' ? d : undefined), since, 'the menu being left', quick);
    }
  }

  /** The status request: refreshes the LCD model (and brings the keypad back from a menu left open). */
  async refresh(options: { useSignal?: boolean; timeoutMs?: number } = {}): Promise<Display> {
    const since = this.keypad.lcdSeq;
    // A busy partition (673) is news for the menus, not a reason to fail a status request.
    await this.keypad.command(Cmd.statusRequest, '', '', options);
    if (this.settings.module === 'envisalink' && !this.textSeen) await this.requireLcdText(since, options);
    return this.keypad.waitDisplay((d) => d, since, 'the keypad display', { ...options, ignore: among(Cmd.partitionBusy, Cmd.partitionReady) });
  }

  /** Set once the module has sent LCD text (901) in this session. */
  private textSeen = false;

  /**
   * Envisalinks differ: the sources show none sending the LCD text (901) that this driver reads the
   * menu from (README, "What the sources say"). A poll is answered after everything the status
   * request made the module send, so its acknowledgement is a fence: no 901 before it means a
   * module without text, said at once (exit 6) instead of after a timeout (exit 4), before a key.
   */
  private async requireLcdText(since: number, options: { useSignal?: boolean; timeoutMs?: number }): Promise<void> {
    await this.keypad.command(Cmd.poll, '', '', { ...options, ignore: among(Cmd.partitionBusy, Cmd.partitionReady, Cmd.partitionNotReady) });
    if (this.keypad.lcdSeq > since) {
      this.textSeen = true;
      return;
    }
    throw new NotSupportedError(
      'this Envisalink sends no keypad text (no 901 LCD updates after a status request): panelctl works DSC user codes through the [*][5] menu it reads from that text, so it cannot list, add, change or remove codes through this module; nothing was keyed',
      {
        hint: 'set options.lcdText: false for this panel to add, change and remove codes by slot (proven by the acknowledgements and the Program LED, not read back; no list), or connect the panel through an IT-100 (options.module: it100), which sends the keypad text; `panelctl audit show --panel NAME` lists what panelctl itself changed',
        data: { module: 'envisalink', lcdText: false },
      },
    );
  }

  async reset(): Promise<void> {
    const display = await this.refresh();
    if (display.screen !== 'idle') {
      // A session that dropped mid-menu left the keypad there; a real keypad waits ~2 minutes before leaving.
      this.menus.entering(display.screen === 'installer' ? 'installer' : 'users');
      await this.leaveMenu();
    }
  }

  // ---- the [*][5] menu ----

  private async codeMenu(kind: 'users' | 'installer'): Promise<void> {
    if (this.menus.menu === kind) return;
    await this.leaveMenu();
    const secret = kind === 'users' ? (this.options.secrets.code as Secret) : this.options.secrets.installer;
    if (!secret) throw new NotSupportedError('the walk test needs the installer code: add secrets.installer to this panel in the inventory');
    this.credentials.check();
    const since = this.keypad.lcdSeq;
    const mark = this.keypad.frameSeq;
    this.menus.entering(kind); // from the first key on, an error must take the keypad back out
    if (kind === 'users' && this.settings.module === 'envisalink') await this.keypad.command(Cmd.userCodeProgramming, '1');
    else await this.keypad.press(kind === 'users' ? '*5' : '*8');
    const wanted: string[] = kind === 'users' ? [Cmd.masterCodeRequired, Cmd.codeRequired] : [Cmd.installerCodeRequired, Cmd.codeRequired];
    await this.keypad.until((f) => (wanted.includes(f.command) ? true : undefined), { since: mark });
    // One attempt only: after a 670 this session refuses to send that code again (keypads lock out).
    await this.credentials.attempt(
      async () => {
        const code = this.settings.padCodes ? secret.reveal().padEnd(6, '0') : secret.reveal();
        await this.keypad.command(Cmd.codeSend, code, '*'.repeat(code.length)).catch((error) => {
          throw syntaxErrorOnCode(error, this.settings.padCodes);
        });
        await this.keypad.waitDisplay(
          (d) => (d.screen === (kind === 'users' ? 'select' : 'installer') ? true : undefined),
          since,
          kind === 'users' ? 'the [*][5] user code menu' : 'the installer menu',
        );
      },
      () =>
        new WrongCredentialError(`the panel refused the ${kind === 'users' ? 'master' : 'installer'} code panelctl entered for it (invalid access code)`, {
          data: { secret: kind === 'users' ? 'code' : 'installer', panelMessage: '670' },
        }),
    );
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 1 || slot > this.settings.highestSlot) {
      throw new ValidationError('--slot', `must be 01 to ${twoDigits(this.settings.highestSlot)} on this panel (options.maxUsers)`);
    }
  }

  private checkWritable(slot: number): void {
    this.checkSlot(slot);
    // The operations refuse this before connecting; the session holds the same line for any other caller.
    if (slot === MASTER_SLOT && !this.settings.allowMaster)
      throw new ValidationError('--slot', MASTER_CHANGE_REFUSED.reason, { hint: MASTER_CHANGE_REFUSED.hint });
  }

  private checkNewCode(code: Secret): void {
    const n = this.settings.codeLength;
    if (!/^\d+$/.test(code.reveal()) || code.length !== n) throw new ValidationError('new code', `must be ${n} digits on this panel (options.codeLength)`);
  }

  private toSlot(slot: number): UserSlot {
    return { slot, kind: slotKind(slot), hasCode: true, editable: slot !== MASTER_SLOT || this.settings.allowMaster };
  }

  /** Shows a slot on the LCD and reads its "P": its number, then [#] back to the slot list, which shows it. */
  private async programmed(slot: number): Promise<boolean> {
    const state = await this.slotState(slot);
    if (state.screen === 'refused') throw new ValidationError('--slot', `the panel has no slot ${twoDigits(slot)} ("${state.text}"); check options.maxUsers`);
    return state.programmed;
  }

  private async slotState(slot: number): Promise<{ screen: 'select'; programmed: boolean } | { screen: 'refused'; text: string }> {
    await this.codeMenu('users');
    const shown = this.keypad.display;
    if (shown.screen === 'select' && shown.slot === slot) return shown;
    const since = this.keypad.lcdSeq;
    await this.keypad.press(`${twoDigits(slot)}#`);
    return this.keypad.waitDisplay((d) => ((d.screen === 'select' && d.slot === slot) || d.screen === 'refused' ? d : undefined), since, `slot ${slot}`);
  }

  /** Types slot + code (or [*] to delete) and waits for the slot list to show the result. */
  private async program(slot: number, code: Secret | undefined): Promise<void> {
    await this.codeMenu('users');
    const since = this.keypad.lcdSeq;
    const keys = twoDigits(slot) + (code ? code.reveal() : '*');
    await this.keypad.press(keys, code ? `00${'*'.repeat(code.length)}` : '');
    const result = await this.keypad.waitDisplay(
      (d) => ((d.screen === 'select' && d.slot === slot) || d.screen === 'refused' ? d : undefined),
      since,
      `the slot list at ${slot} after ${code ? 'the new code' : 'deleting'}`,
    );
    if (result.screen === 'refused') {
      throw new PanelRefusedError('E_CODE_REJECTED', `the panel refused ${code ? 'the new code' : 'the change'} for slot ${slot} ("${result.text}")`, {
        hint: code ? 'another slot (or the installer) already uses that code: choose another, or --generate one' : undefined,
        data: { slot },
      });
    }
  }

  /** An installer code is configured, though it is read only for test mode (issue 17 item 6). */
  private installerConfigured(): boolean {
    return this.options.secrets.installer !== undefined || (this.options.configuredSecrets?.includes('installer') ?? false);
  }

  async info(): Promise<PanelInfo> {
    const display = this.keypad.display;
    return {
      driver: 'dsc',
      model: 'DSC PowerSeries',
      module: this.settings.module === 'envisalink' ? 'Envisalink TPI' : 'IT-100',
      slotRanges: slotRangesUpTo(this.settings.highestSlot, this.settings.allowMaster),
      capabilities: capabilitiesOf(info.facets).filter((c) => c !== 'test-mode' || this.installerConfigured()),
      codeRules: { minLength: this.settings.codeLength, maxLength: this.settings.codeLength, allowedLengths: [this.settings.codeLength] },
      details: {
        'highest slot': this.settings.highestSlot,
        'walk test': display.screen === 'idle' && display.walkTest,
        names: 'none (DSC keeps no user names)',
      },
    };
  }

  /**
   * Envisalink: the TPI takes only digits, * and # in a 071 (README, "What the sources say"), so no
   * arrows: each slot is shown by its number and read from the slot list. A slot the panel says it
   * does not have ends the list (a smaller panel than options.maxUsers says).
   */
  private async listBySlotNumber(progress?: ListProgress): Promise<UserSlot[]> {
    const found: UserSlot[] = [];
    const last = this.settings.highestSlot;
    for (let slot = 1; slot <= last; slot++) {
      progress?.(slot - 1, last);
      const state = await this.slotState(slot);
      if (state.screen === 'refused') break;
      if (state.programmed) found.push(this.toSlot(slot));
    }
    return found;
  }

  /** IT-100: scrolls the [*][5] slot list with [>] and reads each slot's "P" from the LCD. */
  listUsers(progress?: ListProgress): Promise<UserSlot[]> {
    return this.guard(async () => {
      if (this.settings.module === 'envisalink') return this.listBySlotNumber(progress);
      await this.codeMenu('users');
      const seen = new Map<number, boolean>();
      let last = 0;
      let panelMax: number | undefined; // learnt when the list wraps round to slot 01
      const record = () => {
        const d = this.keypad.display;
        if (d.screen !== 'select') return;
        if (d.slot < last && panelMax === undefined) panelMax = last;
        last = d.slot;
        seen.set(d.slot, d.programmed);
      };
      record();
      const previous = this.keypad.onEvent;
      this.keypad.onEvent = (frame) => {
        previous?.(frame);
        if (frame.command === Cmd.lcdUpdate) record();
      };
      const limit = () => Math.min(this.settings.highestSlot, panelMax ?? MAX_SLOT);
      const missing = () => Array.from({ length: limit() }, (_, i) => i + 1).filter((n) => !seen.has(n));
      try {
        // IT-100: one key (and its break) at a time.
        const batch = 1;
        for (let steps = 0; missing().length > 0 && steps < 2 * MAX_SLOT; steps += batch) {
          progress?.(Math.min(seen.size, limit()), limit());
          const target = last + batch;
          const since = this.keypad.lcdSeq;
          await this.keypad.press('>'.repeat(batch));
          await this.keypad.waitDisplay(
            (d) => (d.screen === 'select' && (d.slot === target || (panelMax !== undefined && d.slot === target - panelMax)) ? true : undefined),
            since,
            'the next slots',
          );
        }
      } finally {
        this.keypad.onEvent = previous;
      }
      // Any slot whose line the keypad skipped is read on its own.
      for (const slot of missing()) seen.set(slot, await this.programmed(slot));
      return [...seen]
        .filter(([slot, programmed]) => programmed && slot <= limit())
        .map(([slot]) => this.toSlot(slot))
        .sort((a, b) => a.slot - b.slot);
    });
  }

  readUser(slot: number): Promise<UserSlot | undefined> {
    return this.guard(async () => {
      this.checkSlot(slot);
      return (await this.programmed(slot)) ? this.toSlot(slot) : undefined;
    });
  }

  createUser(user: NewUser): Promise<UserSlot> {
    return this.guard(async () => {
      // DSC keeps no user names: a name given is not stored, and the slot reads back without one.
      this.checkNewCode(user.code);
      let slot = user.slot;
      if (slot === undefined) {
        const taken = new Set((await this.listUsers()).map((u) => u.slot));
        slot = SLOT_RANGES.filter((r) => r.kind === 'user')
          .flatMap((r) => Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i))
          .find((n) => n <= this.settings.highestSlot && !taken.has(n));
        if (slot === undefined) throw new PanelRefusedError('E_FULL', 'every user slot on this panel is programmed');
      }
      this.checkWritable(slot);
      await this.program(slot, user.code);
      return this.toSlot(slot);
    });
  }

  changeCode(slot: number, code: Secret): Promise<void> {
    return this.guard(async () => {
      this.checkWritable(slot);
      this.checkNewCode(code);
      await this.program(slot, code);
    });
  }

  deleteUser(slot: number): Promise<void> {
    return this.guard(async () => {
      this.checkSlot(slot);
      if (slot === MASTER_SLOT) throw new ValidationError('--slot', MASTER_DELETE_REFUSED.reason);
      await this.program(slot, undefined);
    });
  }

  // ---- the installer's walk test ([*][8] installer code, section 901) ----

  private async walkTestState(): Promise<TestState> {
    await this.leaveMenu();
    const display = await this.refresh();
    if (display.screen !== 'idle') throw new VerificationError(`the keypad shows "${this.keypad.shown}" instead of its idle screen`);
    return { active: display.walkTest, mode: 'walk test' };
  }

  private async walkTest(on: boolean): Promise<TestState> {
    if (!this.options.secrets.installer) {
      throw new NotSupportedError('the walk test needs the installer code: add secrets.installer to this panel in the inventory', {
        hint: 'secrets: { installer: env:VARIABLE } (the code for [*][8] installer programming)',
      });
    }
    const before = await this.walkTestState();
    if (before.active === on) return before;
    await this.codeMenu('installer');
    const since = this.keypad.lcdSeq;
    await this.keypad.press('901');
    await this.keypad.waitDisplay((d) => (d.screen === 'installer' ? true : undefined), since, 'the walk test toggling');
    await this.leaveMenu();
    const after = await this.walkTestState();
    if (after.active !== on) throw new VerificationError(`the panel took section 901 but the walk test reads back ${after.active ? 'on' : 'off'}`);
    return after;
  }

  async close(): Promise<void> {
    try {
      await this.leaveMenu();
    } catch {
      // the line may be gone already; the keypad times out by itself
    } finally {
      await this.keypad.channel.close();
    }
  }
}

async function login(keypad: Keypad, password: Secret | undefined): Promise<void> {
  if (!password) {
    throw new UsageError('an Envisalink needs its TPI password (secrets.tpiPassword in the inventory)', {
      code: 'E_SECRET_MISSING',
      hint: 'secrets: { tpiPassword: env:VARIABLE }, or options.module: it100 for an IT-100 behind a serial-to-TCP converter',
    });
  }
  if (password.length < 1 || password.length > 6) throw new ValidationError('secrets.tpiPassword', 'must be 1 to 6 characters (the TPI takes at most 6)');
  try {
    await keypad.until((f) => (f.command === Cmd.loginInteraction && f.data === Login.passwordRequested ? true : undefined));
  } catch (error) {
    if (error instanceof UnreachableError && error.code === 'E_LOST') {
      throw new UnreachableError(
        'E_BUSY',
        'the Envisalink closed the connection before asking for the TPI password: it serves one TPI client at a time, and another one is probably connected',
        { cause: error },
      );
    }
    throw error;
  }
  await keypad.write(Cmd.networkLogin, password.reveal(), '*'.repeat(password.length));
  const result = await keypad.until((f) => (f.command === Cmd.loginInteraction ? f.data : undefined), { ignore: among(Cmd.ack) });
  if (result === Login.ok) return;
  if (result === Login.failed) {
    throw new WrongCredentialError('the Envisalink refused the TPI password', {
      data: { secret: 'tpiPassword' },
      hint: 'check secrets.tpiPassword (the Envisalink web password, first 6 characters); panelctl will not retry it',
    });
  }
  throw new UnreachableError('E_LOGIN_TIMEOUT', 'the Envisalink gave up waiting for the TPI login');
}

/**
 * Logs in (Envisalink) or turns the virtual keypad on (IT-100) over a keypad whose stream is
 * already open, and brings the keypad to its idle screen. driver.open connects first; the fuzz
 * harness passes a keypad on an in-memory stream, so it can watch what the keypad holds.
 */
export async function dscSession(keypad: Keypad, options: OpenOptions): Promise<DscSession | TextlessSession> {
  const settings = settingsFor(options);
  try {
    if (settings.module === 'envisalink') await login(keypad, options.secrets.tpiPassword);
    else await keypad.command(Cmd.virtualKeypad, '1');
    const session = settings.lcdText ? new DscSession(keypad, options, settings) : new TextlessSession(keypad, options, settings);
    await session.reset();
    return session;
  } catch (error) {
    await keypad.channel.close().catch(() => undefined);
    throw error;
  }
}

export const driver: PanelDriver = {
  describe: () => info,
  describeFor: async (options) => describeFor(options),

  async open(options: OpenOptions): Promise<PanelSession> {
    const settings = settingsFor(options);
    const stream = await connect(options.link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    const keypad = newKeypad(stream, { module: settings.module, timeoutMs: options.timeoutMs, signal: options.signal, trace: options.trace });
    return dscSession(keypad, options);
  },

  /** A poll (000): an IT-100 acknowledges it; an Envisalink asks for its password first. Nothing else is sent. */
  async probe(link: Link, options: ProbeOptions): Promise<ProbeResult | undefined> {
    const stream = await connect(link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    try {
      const channel = new FrameChannel(stream, new DscDecoder());
      try {
        await channel.send(encodeMessage(Cmd.poll));
        const frame = await channel.next(
          (f) =>
            f.kind === 'message' &&
            ((f.command === Cmd.ack && f.data === Cmd.poll) || (f.command === Cmd.loginInteraction && f.data === Login.passwordRequested)),
          options,
          true,
        );
        return {
          driver: 'dsc',
          model: frame.command === Cmd.ack ? 'DSC PowerSeries behind an IT-100' : 'DSC PowerSeries behind an Envisalink (TPI asks for its password)',
        };
      } catch {
        return undefined;
      }
    } finally {
      await stream.close();
    }
  },
};
