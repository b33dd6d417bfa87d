import type { PanelSimulator, SimulatorOptions } from '../../src/driver-kit/index.js';
import type { ByteStream } from '../../src/driver-kit/index.js';
import { FaultKnobs, OneClient, ReplyQueue, listenTcp, loadState, pacedOutput, saveState, simNumber, simOption } from '../../src/driver-kit/index.js';
import { DscDecoder, encodeCorrupted, encodeMessage, type DscFrame } from './codec.js';
import { Cmd, KEYS, TPI_KEYS, LED_NUMBERS, Led, Login, MASTER_SLOT, MAX_KEYS_PER_STRING, MAX_SLOT, encodeLcd } from './messages.js';
import { Screen, entryLine, pad, slotLine } from './screens.js';

/**
 * A DSC PowerSeries PC1864 behind an Envisalink (TCP, TPI password login) or an IT-100 (serial, no
 * login). It models the keypad, not a table of users: codes change only through the [*][5] menu
 * driven by keys, with the panel's answers (921 master code required, 670 invalid access code,
 * 658 lockout, 673 busy) and 901 LCD updates. One client at a time. See README "The simulator".
 */

export interface DscState {
  /** Access codes by slot ("40" is the master code). */
  codes: Record<string, string>;
  installerCode: string;
  tpiPassword: string;
  walkTest: boolean;
}

export interface DscFaults {
  /** The partition is busy (another keypad in a menu): menus are refused with 673. */
  busy: boolean;
  /** Delay every answer by this many ms. */
  latencyMs: number;
  /** Swallow the next N messages to the client. */
  dropReplies: number;
  /** Spoil the checksum of the next N messages to the client. */
  corruptChecksum: number;
  /** Drop the line once this many more keys have been processed (0 = never). */
  dropAfterKeys: number;
}

type Mode =
  | { name: 'idle'; star: boolean }
  | { name: 'await-code'; for: 'master' | 'installer'; typed: string }
  | { name: 'select'; slot: number; digit?: string }
  | { name: 'entry'; slot: number; typed: string }
  | { name: 'installer'; section: string };

export function defaultState(seedUsers = 0, codeLength = 4): DscState {
  const six = codeLength === 6;
  // The DSC factory defaults: master 1234, installer 5555 (4-digit panels); Envisalink TPI password "user".
  const codes: Record<string, string> = { [MASTER_SLOT]: six ? '123456' : '1234' };
  let slot = 0;
  for (let n = 1; n <= seedUsers; n++) {
    do slot++;
    while (slot >= 33 && slot <= 42); // seed ordinary user slots only
    if (slot > MAX_SLOT) break;
    const code = String(104729 * n + 7919).slice(-codeLength); // distinct, deterministic
    codes[slot] = code;
  }
  return { codes, installerCode: six ? '555555' : '5555', tpiPassword: 'user', walkTest: false };
}

export class DscSimulator implements PanelSimulator {
  readonly state: DscState;
  readonly mode: 'envisalink' | 'it100';
  readonly codeLength: number;
  readonly maxUsers: number;
  /** Envisalink only: whether the module sends the keypad's LCD text (901). `--set lcdText=false` plays one that does not (README). */
  readonly lcdText: boolean;
  /** Whether the module reports the keypad LEDs (510/511, 903). `--set leds=false` plays one that does not, for tests. */
  readonly ledReports: boolean;
  readonly stats = {
    connections: 0,
    refusedClients: 0,
    framesIn: 0,
    framesOut: 0,
    badChecksum: 0,
    keystrokes: 0,
    writes: 0,
    wrongCodes: 0,
    lockouts: 0,
    loginFailures: 0,
    menuEntries: 0,
    menuExitsByKey: 0,
    menuTimeouts: 0,
  };
  private readonly faults = new FaultKnobs();
  private busy = false;
  private dropAfterKeys = 0;
  private keypad: Mode = { name: 'idle', star: false };
  private lcd: [string, string];
  private leds = Led.ready | Led.backlight;
  /** LEDs flashing (511 on an Envisalink, 903 state 2 on an IT-100): the Program LED while [*][5] is open (README). */
  private flash = 0;
  private wrongInARow = 0;
  private lockedUntil = 0;
  private menuTimer?: NodeJS.Timeout;
  private client?: { raw: ByteStream; replies: ReplyQueue; loggedIn: boolean; keypadEnabled: boolean };
  // The TPI serves one client: a second connection is closed at once, without a login prompt.
  private readonly line = new OneClient({
    serve: (raw) => this.serveClient(raw),
    busy: (raw) => {
      this.stats.refusedClients++;
      void raw.close();
    },
  });
  private readonly lockoutAfter: number;
  private readonly lockoutMs: number;
  private readonly menuTimeoutMs: number;
  private readonly loginTimeoutMs: number;

  constructor(private readonly options: SimulatorOptions) {
    // An IT-100 on a serial line, an Envisalink on TCP, unless `mode` says otherwise.
    this.mode = String(simOption(options, 'mode', options.servedOn === 'serial' ? 'it100' : 'envisalink')) === 'it100' ? 'it100' : 'envisalink';
    this.codeLength = Number(simOption(options, 'codeLength', 4)) === 6 ? 6 : 4;
    this.lcdText = this.mode === 'it100' || !['false', false].includes(simOption<string | boolean>(options, 'lcdText', true));
    this.ledReports = !['false', false].includes(simOption<string | boolean>(options, 'leds', true));
    this.maxUsers = Math.min(MAX_SLOT, Math.max(MASTER_SLOT + 2, Number(simOption(options, 'maxUsers', MAX_SLOT))));
    this.lockoutAfter = Number(simOption(options, 'lockoutAfter', 3));
    this.lockoutMs = Number(simOption(options, 'lockoutMs', 5 * 60_000));
    this.menuTimeoutMs = Number(simOption(options, 'menuTimeoutMs', 120_000));
    this.loginTimeoutMs = Number(simOption(options, 'loginTimeoutMs', 10_000));
    this.state = this.load();
    const o = options.options ?? {};
    // `--set masterCode=738215` arrives as a number (a leading zero keeps it text): take either.
    if (o.tpiPassword !== undefined) this.state.tpiPassword = String(o.tpiPassword);
    if (o.masterCode !== undefined) this.state.codes[MASTER_SLOT] = String(o.masterCode);
    if (o.installerCode !== undefined) this.state.installerCode = String(o.installerCode);
    this.setFaults({
      busy: o.busy === true,
      latencyMs: simNumber(options, 'latencyMs'),
      dropReplies: simNumber(options, 'dropReplies'),
      corruptChecksum: simNumber(options, 'corruptChecksum'),
      dropAfterKeys: simNumber(options, 'dropAfterKeys'),
    });
    this.lcd = this.idleScreen();
    this.save();
  }

  private load(): DscState {
    return loadState(this.options.statePath, () => defaultState(this.options.users ?? 0, this.codeLength));
  }

  private save(): void {
    saveState(this.options.statePath, this.state);
  }

  setFaults(faults: Partial<DscFaults>): void {
    const { busy, dropAfterKeys, corruptChecksum, latencyMs, dropReplies } = faults;
    if (busy !== undefined) this.busy = busy;
    if (dropAfterKeys !== undefined) this.dropAfterKeys = dropAfterKeys;
    this.faults.set({ latencyMs, dropReplies, corruptReplies: corruptChecksum });
  }

  demoSecrets(): Record<string, string> {
    return {
      code: this.state.codes[MASTER_SLOT],
      installer: this.state.installerCode,
      ...(this.mode === 'envisalink' ? { tpiPassword: this.state.tpiPassword } : {}),
    };
  }

  /** What the keypad shows now (tests). */
  get display(): [string, string] {
    return [...this.lcd] as [string, string];
  }

  get keypadMode(): string {
    return this.keypad.name;
  }

  listenTcp(host = '127.0.0.1', port = 0) {
    return listenTcp(this, host, port);
  }

  accept(raw: ByteStream): void {
    this.line.offer(raw);
  }

  private serveClient(raw: ByteStream): void {
    this.stats.connections++;
    const replies = new ReplyQueue(pacedOutput(raw, this.options.paceBaud), this.faults);
    const client = { raw, replies, loggedIn: this.mode === 'it100', keypadEnabled: this.mode === 'envisalink' };
    this.client = client;
    const decoder = new DscDecoder();
    raw.onData((chunk) => {
      for (const frame of decoder.push(chunk)) if (this.client === client) this.receive(client, frame);
    });
    // A dropped line does not reset the keypad: a real panel stays in its menu until the keypad times out.
    raw.onClose(() => {
      if (this.client === client) this.client = undefined;
    });
    if (this.mode === 'envisalink') {
      this.send(Cmd.loginInteraction, Login.passwordRequested);
      const timer = setTimeout(() => {
        if (this.client === client && !client.loggedIn) {
          this.send(Cmd.loginInteraction, Login.timedOut);
          replies.after(() => raw.close());
        }
      }, this.loginTimeoutMs);
      timer.unref();
    }
  }

  private send(command: string, data = ''): void {
    const client = this.client;
    if (!client) return;
    if (client.replies.send((corrupt) => (corrupt ? encodeCorrupted : encodeMessage)(command, data))) this.stats.framesOut++;
  }

  private receive(client: NonNullable<DscSimulator['client']>, frame: DscFrame): void {
    this.stats.framesIn++;
    if (!client.loggedIn) {
      if (frame.command !== Cmd.networkLogin) return; // nothing else is heard before the login
      this.send(Cmd.ack, Cmd.networkLogin);
      if (frame.kind === 'message' && frame.data === this.state.tpiPassword) {
        client.loggedIn = true;
        this.send(Cmd.loginInteraction, Login.ok);
        this.sendLeds();
      } else {
        // The TPI answers a bad password and a bad checksum alike, then hangs up.
        this.stats.loginFailures++;
        this.send(Cmd.loginInteraction, Login.failed);
        client.replies.after(() => client.raw.close());
      }
      return;
    }
    if (frame.kind === 'bad-checksum') {
      this.stats.badChecksum++;
      this.send(Cmd.commandError);
      return;
    }
    const { command, data } = frame;
    switch (command) {
      case Cmd.poll:
      case Cmd.keepAlive:
        this.send(Cmd.ack, command);
        return;
      case Cmd.statusRequest:
        this.send(Cmd.ack, command);
        this.send(this.busy ? Cmd.partitionBusy : Cmd.partitionReady, '1');
        this.sendLeds(true);
        if (client.keypadEnabled) this.refresh();
        return;
      case Cmd.virtualKeypad:
        if (this.mode !== 'it100' || !/^[01]$/.test(data)) return this.send(Cmd.systemError, '029');
        this.send(Cmd.ack, command);
        client.keypadEnabled = data === '1';
        if (client.keypadEnabled) this.refresh();
        return;
      case Cmd.keyPressed:
        if (!client.keypadEnabled) return this.send(Cmd.systemError, '028');
        if (data.length !== 1 || !KEYS.test(data)) return this.send(Cmd.systemError, '020');
        this.send(Cmd.ack, command);
        this.press(data);
        return;
      case Cmd.keyString: {
        if (this.mode !== 'envisalink') return this.send(Cmd.systemError, '022');
        const keys = data.slice(1);
        if (!/^[1-8]$/.test(data[0] ?? '') || !keys.length || keys.length > MAX_KEYS_PER_STRING || !KEYS.test(keys)) return this.send(Cmd.systemError, '020');
        // The TPI takes only digits, * and # in a 071 (README, "What the sources say"): anything else is 502 027.
        if (!TPI_KEYS.test(keys)) return this.send(Cmd.systemError, '027');
        this.send(Cmd.ack, command);
        for (const key of keys) this.press(key);
        return;
      }
      case Cmd.userCodeProgramming:
      case Cmd.userProgramming:
        if (this.mode !== 'envisalink') return this.send(Cmd.systemError, '022');
        if (!/^[1-8]$/.test(data)) return this.send(Cmd.systemError, '021');
        this.send(Cmd.ack, command);
        this.press('*');
        this.press(command === Cmd.userCodeProgramming ? '5' : '6');
        return;
      case Cmd.codeSend: {
        // An IT-100 takes six characters (a 4-digit code padded with 00, as evl-emu does on real hardware); the TPI takes the code as is.
        const form = this.mode === 'it100' ? /^\d{6}$/ : /^\d{4}(\d{2})?$/;
        if (!form.test(data)) return this.send(Cmd.systemError, '020');
        this.send(Cmd.ack, command);
        if (this.keypad.name !== 'await-code') return this.send(Cmd.systemError, '026');
        const code = this.mode === 'it100' && this.codeLength === 4 && data.endsWith('00') ? data.slice(0, 4) : data;
        this.codeEntered(this.keypad.for, code);
        return;
      }
      default:
        this.send(Cmd.systemError, '022');
    }
  }

  // ---- the keypad ----

  private press(key: string): void {
    if (key === '^') return; // key break (IT-100): ends a press, changes nothing
    this.stats.keystrokes++;
    if (this.dropAfterKeys > 0 && --this.dropAfterKeys === 0) {
      // The line drops right after this key: the panel still acts on it.
      const client = this.client;
      client?.replies.after(() => client.raw.close());
    }
    if (Date.now() < this.lockedUntil) return this.send(Cmd.keypadLockout, '1');
    const mode = this.keypad;
    if (mode.name !== 'idle') this.armMenuTimer();
    switch (mode.name) {
      case 'idle':
        if (key === '*') {
          this.keypad = { name: 'idle', star: true };
          return;
        }
        if (mode.star && (key === '5' || key === '8' || key === '6')) {
          if (this.busy) {
            this.keypad = { name: 'idle', star: false };
            return this.send(Cmd.partitionBusy, '1');
          }
          if (key === '6') {
            // [*][6] user functions are not modelled: the keypad gives up.
            this.keypad = { name: 'idle', star: false };
            return this.show(this.lcd[0], Screen.invalidEntry);
          }
          this.keypad = { name: 'await-code', for: key === '5' ? 'master' : 'installer', typed: '' };
          this.armMenuTimer();
          const [top, bottom] = key === '5' ? Screen.masterPrompt : Screen.installerPrompt;
          this.show(top, bottom);
          return this.send(key === '5' ? Cmd.masterCodeRequired : Cmd.installerCodeRequired);
        }
        this.keypad = { name: 'idle', star: false };
        return;
      case 'await-code':
        if (key === '#') return this.exitMenu();
        if (!/\d/.test(key)) return;
        mode.typed += key;
        if (mode.typed.length === this.codeLength) this.codeEntered(mode.for, mode.typed);
        return;
      case 'select':
        return this.selectKey(mode, key);
      case 'entry':
        return this.entryKey(mode, key);
      case 'installer':
        if (key === '#') return this.exitMenu();
        if (!/\d/.test(key)) return;
        mode.section += key;
        if (mode.section.length < 3) return;
        if (mode.section === '901') {
          this.state.walkTest = !this.state.walkTest;
          this.save();
          this.show(Screen.installerMenu[0], pad(this.state.walkTest ? 'Walk Test On' : 'Walk Test Off'));
        } else {
          this.show(Screen.installerMenu[0], Screen.invalidEntry);
        }
        mode.section = '';
        return;
    }
  }

  private codeEntered(kind: 'master' | 'installer', code: string): void {
    const right = kind === 'master' ? this.state.codes[MASTER_SLOT] : this.state.installerCode;
    if (code !== right) {
      this.stats.wrongCodes++;
      this.wrongInARow++;
      this.keypad = { name: 'idle', star: false };
      this.clearMenuTimer();
      this.send(Cmd.invalidAccessCode, '1');
      const [top, bottom] = this.idleScreen();
      this.show(top, bottom);
      if (this.wrongInARow >= this.lockoutAfter) {
        this.wrongInARow = 0;
        this.lockedUntil = Date.now() + this.lockoutMs;
        this.stats.lockouts++;
        this.send(Cmd.keypadLockout, '1');
      }
      return;
    }
    this.wrongInARow = 0;
    this.stats.menuEntries++;
    // PowerSeries user manuals: in [*][5] the Program light flashes and the Armed light is on.
    if (kind === 'master') this.setLeds(Led.program | Led.armed, 0, Led.program);
    else this.setLeds(Led.program, 0);
    if (kind === 'master') {
      this.keypad = { name: 'select', slot: 1 };
      this.show(Screen.selectHeader, slotLine(1, this.programmed(1)));
    } else {
      this.keypad = { name: 'installer', section: '' };
      this.show(Screen.installerMenu[0], Screen.installerMenu[1]);
    }
  }

  private programmed(slot: number): boolean {
    return this.state.codes[slot] !== undefined;
  }

  private selectKey(mode: Extract<Mode, { name: 'select' }>, key: string): void {
    if (key === '#') return this.exitMenu();
    if (key === '<' || key === '>') {
      mode.slot = ((mode.slot - 1 + (key === '>' ? 1 : -1) + this.maxUsers) % this.maxUsers) + 1;
      mode.digit = undefined;
      return this.show(Screen.selectHeader, slotLine(mode.slot, this.programmed(mode.slot)));
    }
    if (!/\d/.test(key)) return;
    if (mode.digit === undefined) {
      mode.digit = key;
      return;
    }
    const slot = Number(mode.digit + key);
    mode.digit = undefined;
    if (slot < 1 || slot > this.maxUsers) return this.show(slotLine(mode.slot, this.programmed(mode.slot)), Screen.invalidEntry);
    this.keypad = { name: 'entry', slot, typed: '' };
    this.show(slotLine(slot, this.programmed(slot)), Screen.enterCode);
  }

  private entryKey(mode: Extract<Mode, { name: 'entry' }>, key: string): void {
    const back = () => {
      this.keypad = { name: 'select', slot: mode.slot };
      this.show(Screen.selectHeader, slotLine(mode.slot, this.programmed(mode.slot)));
    };
    if (key === '#') return back();
    if (key === '*') {
      if (mode.slot === MASTER_SLOT) {
        // The master code can be changed but never deleted.
        this.keypad = { name: 'select', slot: mode.slot };
        return this.show(slotLine(mode.slot, true), Screen.invalidEntry);
      }
      if (this.programmed(mode.slot)) {
        delete this.state.codes[mode.slot];
        this.stats.writes++;
        this.save();
      }
      return back();
    }
    if (!/\d/.test(key)) return;
    mode.typed += key;
    if (mode.typed.length < this.codeLength) return this.show(this.lcd[0], entryLine(mode.typed.length));
    const taken =
      Object.entries(this.state.codes).some(([slot, code]) => Number(slot) !== mode.slot && code === mode.typed) || mode.typed === this.state.installerCode;
    if (taken) {
      // Duplicate codes are refused with the error tone; the slot keeps what it had.
      this.keypad = { name: 'select', slot: mode.slot };
      return this.show(slotLine(mode.slot, this.programmed(mode.slot)), Screen.codeInUse);
    }
    this.state.codes[mode.slot] = mode.typed;
    this.stats.writes++;
    this.save();
    back();
  }

  private exitMenu(): void {
    const wasMenu = this.keypad.name !== 'idle';
    this.keypad = { name: 'idle', star: false };
    this.clearMenuTimer();
    if (wasMenu) this.stats.menuExitsByKey++;
    this.setLeds(0, Led.program | Led.armed, 0);
    const [top, bottom] = this.idleScreen();
    this.show(top, bottom);
  }

  private idleScreen(): [string, string] {
    return this.state.walkTest ? [...Screen.walkTestIdle] : [...Screen.idle];
  }

  private armMenuTimer(): void {
    this.clearMenuTimer();
    this.menuTimer = setTimeout(() => {
      // A keypad left idle in a menu goes back to the ready screen by itself.
      this.stats.menuTimeouts++;
      this.keypad = { name: 'idle', star: false };
      this.setLeds(0, Led.program | Led.armed, 0);
      const [top, bottom] = this.idleScreen();
      this.show(top, bottom);
    }, this.menuTimeoutMs);
    this.menuTimer.unref();
  }

  private clearMenuTimer(): void {
    if (this.menuTimer) clearTimeout(this.menuTimer);
    this.menuTimer = undefined;
  }

  /** Updates the LCD; only lines that changed are sent, as the keypad does. */
  private show(top: string, bottom: string): void {
    const next: [string, string] = [pad(top), pad(bottom)];
    next.forEach((text, line) => {
      if (text === this.lcd[line]) return;
      this.lcd[line] = text;
      if (this.client?.keypadEnabled && this.lcdText) this.send(Cmd.lcdUpdate, encodeLcd({ line, column: 0, text }));
    });
  }

  private refresh(): void {
    if (this.lcdText) this.lcd.forEach((text, line) => this.send(Cmd.lcdUpdate, encodeLcd({ line, column: 0, text })));
  }

  /** Turns LEDs on and off and sets which flash; only a change is reported, as the module does. */
  private setLeds(on: number, off: number, flash = this.flash): void {
    const before = { leds: this.leds, flash: this.flash };
    this.leds = (this.leds | on) & ~off;
    this.flash = flash;
    if (this.leds !== before.leds || this.flash !== before.flash) this.sendLeds(false, before);
  }

  /**
   * Envisalink: 510 with the LED bitmap and 511 with the flashing ones (TPI), each when it changed (or both, on
   * request); IT-100: 903 for each LED that changed (or all), 0 off / 1 on / 2 flashing (IT-100 guide).
   */
  private sendLeds(all = true, before = { leds: ~this.leds, flash: ~this.flash }): void {
    if (!this.ledReports) return;
    const hex = (bits: number) => bits.toString(16).toUpperCase().padStart(2, '0');
    if (this.mode === 'envisalink') {
      if (all || before.leds !== this.leds) this.send(Cmd.ledState, hex(this.leds));
      if (all || before.flash !== this.flash) this.send(Cmd.ledFlash, hex(this.flash));
      return;
    }
    if (!this.client?.keypadEnabled) return;
    const stateOf = (leds: number, flash: number, bit: number) => (flash & bit ? 2 : leds & bit ? 1 : 0);
    for (const [number, bit] of Object.entries(LED_NUMBERS)) {
      const now = stateOf(this.leds, this.flash, bit);
      if (all || stateOf(before.leds, before.flash, bit) !== now) this.send(Cmd.ledStatus, `${number}${now}`);
    }
  }

  async close(): Promise<void> {
    this.clearMenuTimer();
    await this.client?.raw.close();
    this.save();
  }
}

export async function createSimulator(options: SimulatorOptions): Promise<DscSimulator> {
  return new DscSimulator(options);
}

/** The `--set` names createSimulator reads (`panelctl sim` refuses others). */
export const simulatorOptions: readonly string[] = [
  'mode',
  'codeLength',
  'lcdText',
  'leds',
  'maxUsers',
  'lockoutAfter',
  'lockoutMs',
  'menuTimeoutMs',
  'loginTimeoutMs',
  'tpiPassword',
  'masterCode',
  'installerCode',
  'busy',
  'latencyMs',
  'dropReplies',
  'corruptChecksum',
  'dropAfterKeys',
];
