import type { ByteStream, PanelSimulator, SimulatorOptions } from '../../src/driver-kit/index.js';
import { loadState, paced, saveState, serveTcp, simOption } from '../../src/driver-kit/index.js';
import { CODE_LENGTH, type DeleteKeys, FIRST_USER, INSTALLER_USER, Key, MASTER_USER, MAX_USER, twoDigits } from './keys.js';
import { formatKeypadMessage, type StatusBits } from './messages.js';
import { Screen } from './screens.js';

/**
 * A Honeywell VISTA-20P behind an AlarmDecoder, as ser2sock serves it on TCP (several clients,
 * every line to each) or as the AD2 serves it on a serial port. It models the keypad, not a table
 * of users: codes change only through key sequences (master + 8 + user + code, delete with the
 * configured ending), answered as the panel does: one beep in the next keypad message on success,
 * silence on refusal (README: "What we could not find"). Walk test: code + 5 (+ 0). Keypad
 * lockout after repeated refusals. State is JSON, saved atomically. See README "The simulator".
 */

export interface VistaState {
  /** Codes by two-digit user number: "01" installer, "02" master. */
  codes: Record<string, string>;
  walkTest: boolean;
}

export interface VistaFaults {
  /** Delay every line to the clients by this many ms. */
  latencyMs: number;
  /** Swallow the next N lines to the clients. */
  dropLines: number;
  /** Send N lines of garbage (not AlarmDecoder lines) before the next real one. */
  garbageLines: number;
  /** Close the client(s) once this many more keys have been taken (0 = never); the panel acts on that key. */
  dropAfterKeys: number;
  /** An installer is in programming mode: keys from this keypad are ignored, bit 5 set. */
  programming: boolean;
  /** A zone is faulted: not ready, the display shows FAULT nn. */
  faultedZone: number;
  /** The panel does what it is told but the beep never reaches the AlarmDecoder (a "lost ack"). */
  muteBeeps: boolean;
}

type Entry =
  /** Collecting a code (and the command key after it). */
  | { step: 'code'; typed: string }
  /** Master/installer + 8: collecting the user number. */
  | { step: 'user'; by: number; typed: string }
  /** Collecting the new code (twice for the master changing itself) or the delete ending. */
  | { step: 'new-code'; by: number; user: number; typed: string }
  /** Code + 5 on a panel that asks "1 = DIAL, 0 = WALK". */
  | { step: 'walk-choice' }
  /** After a refusal, keys are ignored until the keypad has been quiet for the key timeout. */
  | { step: 'aborted' };

/** Factory defaults: installer 4112, master 1234 (README); `users` ordinary users with distinct codes. */
export function defaultState(users = 0): VistaState {
  const codes: Record<string, string> = { [twoDigits(INSTALLER_USER)]: '4112', [twoDigits(MASTER_USER)]: '1234' };
  for (let n = 0; n < users && FIRST_USER + n <= MAX_USER; n++) codes[twoDigits(FIRST_USER + n)] = String(104729 * (n + 1) + 7919).slice(-CODE_LENGTH);
  return { codes, walkTest: false };
}

const MAX_CLIENTS = 10; // ser2sock's MAXCLIENTCONNECTIONS

interface Client {
  raw: ByteStream;
  out: ByteStream;
  command?: string;
}

export class VistaSimulator implements PanelSimulator {
  readonly state: VistaState;
  readonly stats = {
    connections: 0,
    refusedClients: 0,
    linesOut: 0,
    keys: 0,
    /** Codes set or deleted. */
    writes: 0,
    /** Sequences the panel refused (a code that is not valid, no authority, bad user number, duplicate). */
    refusals: 0,
    wrongCodes: 0,
    lockouts: 0,
    /** Keys ignored while locked out or in an aborted entry. */
    ignoredKeys: 0,
    acks: 0,
    aborts: 0,
    versionRequests: 0,
  };
  private faults: VistaFaults = { latencyMs: 0, dropLines: 0, garbageLines: 0, dropAfterKeys: 0, programming: false, faultedZone: 0, muteBeeps: false };
  private readonly clients = new Set<Client>();
  private entry: Entry = { step: 'code', typed: '' };
  private entryTimer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private refusedInARow = 0;
  private lockedUntil = 0;
  private sending: Promise<void> = Promise.resolve();
  readonly address: number;
  private readonly keyTimeoutMs: number;
  private readonly statusIntervalMs: number;
  private readonly lockoutAfter: number;
  private readonly lockoutMs: number;
  private readonly maxUser: number;
  private readonly walkPrompt: boolean;
  private readonly deleteKeys: DeleteKeys;
  private readonly kpm: boolean;

  constructor(private readonly options: SimulatorOptions) {
    this.address = Number(simOption(options, 'address', 18));
    this.keyTimeoutMs = Number(simOption(options, 'keyTimeoutMs', 3000));
    this.statusIntervalMs = Number(simOption(options, 'statusIntervalMs', 2000));
    this.lockoutAfter = Number(simOption(options, 'lockoutAfter', 3));
    this.lockoutMs = Number(simOption(options, 'lockoutMs', 5 * 60_000));
    this.maxUser = Math.min(MAX_USER, Math.max(FIRST_USER, Number(simOption(options, 'maxUser', MAX_USER))));
    this.walkPrompt = String(simOption(options, 'walkPrompt', true)) !== 'false';
    const ending = String(simOption(options, 'deleteKeys', '#0'));
    this.deleteKeys = ending === '0#' || ending === 'wait' ? ending : '#0';
    this.kpm = String(simOption(options, 'kpm', false)) === 'true';
    this.state = this.load();
    const o = options.options ?? {};
    // `--set masterCode=4321` arrives as a number (a leading zero keeps it text): take either.
    if (o.masterCode !== undefined) this.state.codes[twoDigits(MASTER_USER)] = String(o.masterCode).padStart(CODE_LENGTH, '0');
    if (o.installerCode !== undefined) this.state.codes[twoDigits(INSTALLER_USER)] = String(o.installerCode).padStart(CODE_LENGTH, '0');
    this.setFaults({
      latencyMs: Number(o.latencyMs ?? 0),
      dropLines: Number(o.dropLines ?? 0),
      garbageLines: Number(o.garbageLines ?? 0),
      dropAfterKeys: Number(o.dropAfterKeys ?? 0),
      programming: o.programming === true,
      faultedZone: Number(o.faultedZone ?? 0),
      muteBeeps: o.muteBeeps === true,
    });
    this.save();
  }

  private load(): VistaState {
    return loadState(
      this.options.statePath,
      () => defaultState(this.options.users ?? 0),
      (saved) => typeof (saved as VistaState)?.codes === 'object',
    );
  }

  private save(): void {
    saveState(this.options.statePath, this.state);
  }

  setFaults(faults: Partial<VistaFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  demoSecrets(): Record<string, string> {
    return { code: this.state.codes[twoDigits(MASTER_USER)] };
  }

  /** The two display lines now (tests). */
  get display(): [string, string] {
    const [top, bottom] = this.screen();
    return [top, bottom];
  }

  get entryStep(): string {
    return this.entry.step;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  listenTcp(host = '127.0.0.1', port = 0) {
    return serveTcp(host, port, (stream) => this.accept(stream));
  }

  accept(raw: ByteStream): void {
    if (this.clients.size >= MAX_CLIENTS) {
      this.stats.refusedClients++;
      void raw.close();
      return;
    }
    this.stats.connections++;
    const client: Client = { raw, out: this.options.paceBaud ? paced(raw, this.options.paceBaud) : raw };
    this.clients.add(client);
    raw.onData((chunk) => {
      for (const byte of chunk) if (this.clients.has(client)) this.receive(client, String.fromCharCode(byte));
    });
    raw.onClose(() => {
      this.clients.delete(client);
      if (!this.clients.size) this.stopStatus();
    });
    this.startStatus();
    // A new client hears the keypad soon on a real bus (the panel refreshes the displays every few
    // seconds, README); the simulator sends the current display at once so an open is quick.
    this.status();
  }

  // ---- the AlarmDecoder: commands and keys ----

  private receive(client: Client, char: string): void {
    if (client.command !== undefined) {
      if (char === '\r' || char === '\n') {
        const command = client.command;
        client.command = undefined;
        this.command(command);
      } else if (client.command.length < 200) client.command += char;
      return;
    }
    if (char === 'V' || char === 'C') {
      client.command = char;
      return;
    }
    if (/[0-9*#]/.test(char)) this.press(char);
    // Anything else (CR, LF, special keys) changes nothing in this model.
  }

  private command(command: string): void {
    if (command === 'V') {
      this.stats.versionRequests++;
      this.send('!VER:ffffffff,V2.2a.8.8,TX;RX;SM;VZ;RF;ZX;RE;AU;3X;CG;DD;MF;LR;KE;MK;CB;DS;ER;CR');
    } else if (command.startsWith('C')) {
      this.send(`!CONFIG>ADDRESS=${this.address}&CONFIGBITS=ff0${this.kpm ? '8' : '0'}&LRR=N&COM=N&EXP=NNNNN&REL=NNNN&MASK=ffffffff&DEDUPLICATE=N&MODE=A`);
    }
  }

  private send(line: string): void {
    if (!this.clients.size) return;
    if (this.faults.dropLines > 0) {
      this.faults.dropLines--;
      return;
    }
    const lines: string[] = [];
    for (; this.faults.garbageLines > 0; this.faults.garbageLines--) lines.push('[zz],??,"not an AlarmDecoder line"');
    lines.push(line);
    const bytes = Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
    const latency = this.faults.latencyMs;
    this.stats.linesOut += lines.length;
    const targets = [...this.clients];
    this.sending = this.sending.then(async () => {
      if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
      for (const client of targets) if (!client.raw.closed) await client.out.write(bytes).catch(() => undefined);
    });
  }

  // ---- the keypad display ----

  private screen(): readonly string[] {
    if (this.faults.programming) return Screen.programming;
    if (this.entry.step === 'walk-choice') return Screen.dialOrWalk;
    if (this.state.walkTest) return Screen.test;
    if (this.faults.faultedZone) return Screen.notReady(this.faults.faultedZone);
    return Screen.idle;
  }

  private bits(): Partial<StatusBits> {
    return { ready: !this.faults.faultedZone && !this.faults.programming, backlight: true, programming: this.faults.programming, acPower: true };
  }

  /** Sends the keypad message for the current state; `beeps` as the panel asked the keypads. */
  private status(beeps = 0): void {
    const [top, bottom] = this.screen();
    this.send(
      formatKeypadMessage({
        bits: this.bits(),
        beeps: this.faults.muteBeeps ? 0 : beeps,
        numeric: this.faults.faultedZone || (this.state.walkTest ? 0 : 8),
        addresses: [16, 17, this.address],
        lines: [top, bottom],
        kpm: this.kpm,
      }),
    );
  }

  private startStatus(): void {
    if (this.statusTimer) return;
    this.statusTimer = setInterval(() => this.status(), this.statusIntervalMs);
    this.statusTimer.unref();
  }

  private stopStatus(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = undefined;
  }

  // ---- the panel: key sequences ----

  /** Tests: hears every key as it arrives (the count so far), e.g. to press Ctrl-C mid-sequence. */
  onKey?: (count: number) => void;

  private press(key: string): void {
    this.stats.keys++;
    this.onKey?.(this.stats.keys);
    if (this.faults.dropAfterKeys > 0 && --this.faults.dropAfterKeys === 0) {
      // The line drops right after this key: the panel still acts on it.
      void this.sending.then(() => Promise.all([...this.clients].map((c) => c.raw.close())));
    }
    if (this.faults.programming || Date.now() < this.lockedUntil) {
      this.stats.ignoredKeys++;
      return;
    }
    this.armEntryTimer();
    const entry = this.entry;
    switch (entry.step) {
      case 'aborted':
        this.stats.ignoredKeys++;
        return;
      case 'code':
        this.codeKey(entry, key);
        return;
      case 'user':
        if (!/\d/.test(key)) {
          this.refuse(false);
          return;
        }
        entry.typed += key;
        if (entry.typed.length === 2) this.userChosen(entry.by, Number(entry.typed));
        return;
      case 'new-code':
        this.newCodeKey(entry, key);
        return;
      case 'walk-choice':
        if (key === Key.walk) {
          this.startWalkTest();
          return;
        }
        // 1 = DIAL (the dialer test) is not modelled; anything else leaves the choice.
        this.entry = { step: 'code', typed: '' };
        this.status();
        return;
    }
  }

  private codeKey(entry: Extract<Entry, { step: 'code' }>, key: string): void {
    if (entry.typed.length < CODE_LENGTH) {
      if (/\d/.test(key)) entry.typed += key;
      else this.entry = { step: 'code', typed: '' }; // * (READY) or # on their own show nothing new here
      return;
    }
    const user = this.userWithCode(entry.typed);
    if (user === undefined) {
      this.refuse(true);
      return;
    }
    this.refusedInARow = 0;
    switch (key) {
      case Key.code:
        // Only the installer and the master may add, change or delete users.
        if (user !== INSTALLER_USER && user !== MASTER_USER) {
          this.refuse(false);
          return;
        }
        this.entry = { step: 'user', by: user, typed: '' };
        return;
      case Key.test:
        if (this.walkPrompt) {
          this.entry = { step: 'walk-choice' };
          this.status();
          return;
        }
        this.startWalkTest();
        return;
      case Key.off:
        this.entry = { step: 'code', typed: '' };
        if (this.state.walkTest) {
          this.state.walkTest = false;
          this.save();
        }
        this.status(1);
        return;
      default:
        // Arming and the other commands are not modelled.
        this.entry = { step: 'code', typed: '' };
        return;
    }
  }

  private startWalkTest(): void {
    this.entry = { step: 'code', typed: '' };
    if (this.faults.faultedZone) {
      this.refuse(false);
      return;
    } // the system must be ready
    this.state.walkTest = true;
    this.save();
    this.status(1);
  }

  private userChosen(by: number, user: number): void {
    const mayChange = user >= FIRST_USER ? user <= this.maxUser : user === MASTER_USER;
    if (!mayChange) {
      this.refuse(false);
      return;
    }
    this.entry = { step: 'new-code', by, user, typed: '' };
    if (this.deleteKeys === 'wait' && user !== MASTER_USER) this.armEntryTimer(() => this.removeUser(user));
  }

  private newCodeKey(entry: Extract<Entry, { step: 'new-code' }>, key: string): void {
    entry.typed += key;
    const typed = entry.typed;
    if (entry.user !== MASTER_USER && this.deleteKeys !== 'wait' && this.deleteKeys.startsWith(typed)) {
      if (typed === this.deleteKeys) this.removeUser(entry.user);
      return;
    }
    if (!/^\d+$/.test(typed)) {
      this.refuse(false);
      return;
    }
    // The master changing itself keys the new code twice; everyone else once.
    const wanted = entry.user === MASTER_USER && entry.by === MASTER_USER ? 2 * CODE_LENGTH : CODE_LENGTH;
    if (this.deleteKeys === 'wait' && entry.user !== MASTER_USER) this.armEntryTimer();
    if (typed.length < wanted) return;
    const code = typed.slice(0, CODE_LENGTH);
    if (wanted === 2 * CODE_LENGTH && typed.slice(CODE_LENGTH) !== code) {
      this.refuse(false);
      return;
    }
    const holder = this.userWithCode(code);
    if (holder !== undefined && holder !== entry.user) {
      this.refuse(false);
      return;
    } // a duplicate code
    this.state.codes[twoDigits(entry.user)] = code;
    this.written();
  }

  private removeUser(user: number): void {
    delete this.state.codes[twoDigits(user)];
    this.written();
  }

  private written(): void {
    this.stats.writes++;
    this.stats.acks++;
    this.entry = { step: 'code', typed: '' };
    this.clearEntryTimer();
    this.save();
    this.status(1);
  }

  private userWithCode(code: string): number | undefined {
    const found = Object.entries(this.state.codes).find(([, c]) => c === code);
    return found ? Number(found[0]) : undefined;
  }

  /** A refused sequence: no beep; the rest of the entry is ignored until the keypad is quiet. */
  private refuse(wrongCode: boolean): void {
    this.stats.refusals++;
    if (wrongCode) this.stats.wrongCodes++;
    this.entry = { step: 'aborted' };
    this.armEntryTimer();
    if (++this.refusedInARow >= this.lockoutAfter) {
      this.refusedInARow = 0;
      this.lockedUntil = Date.now() + this.lockoutMs;
      this.stats.lockouts++;
    }
  }

  /** A pause longer than the key timeout aborts a half-typed entry (or completes a `wait` delete). */
  private armEntryTimer(onQuiet?: () => void): void {
    this.clearEntryTimer();
    this.entryTimer = setTimeout(() => {
      this.entryTimer = undefined;
      if (onQuiet) {
        onQuiet();
        return;
      }
      if (this.entry.step !== 'code' || this.entry.typed) this.stats.aborts++;
      const wasChoice = this.entry.step === 'walk-choice';
      this.entry = { step: 'code', typed: '' };
      if (wasChoice) this.status();
    }, this.keyTimeoutMs);
    this.entryTimer.unref();
  }

  private clearEntryTimer(): void {
    if (this.entryTimer) clearTimeout(this.entryTimer);
    this.entryTimer = undefined;
  }

  async close(): Promise<void> {
    this.stopStatus();
    this.clearEntryTimer();
    await this.sending;
    await Promise.all([...this.clients].map((c) => c.raw.close()));
    this.save();
  }
}

export async function createSimulator(options: SimulatorOptions): Promise<VistaSimulator> {
  return new VistaSimulator(options);
}

/** The `--set` names createSimulator reads (`panelctl sim` refuses others). */
export const simulatorOptions: readonly string[] = [
  'address',
  'keyTimeoutMs',
  'statusIntervalMs',
  'lockoutAfter',
  'lockoutMs',
  'maxUser',
  'walkPrompt',
  'deleteKeys',
  'kpm',
  'masterCode',
  'installerCode',
  'latencyMs',
  'dropLines',
  'garbageLines',
  'dropAfterKeys',
  'programming',
  'faultedZone',
  'muteBeeps',
];
