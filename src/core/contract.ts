import type { NameRules } from './user-name.js';
import type { Link, SerialSettings } from './link.js';
import type { Secret, Secrets } from './secret.js';
import type { ByteStream } from '../transport/types.js';

/** What a slot is for. Drivers map their panel's numbering onto these. */
export type SlotKind = 'user' | 'master' | 'installer' | 'service' | 'duress' | 'supervisor';

export interface SlotRange {
  from: number;
  to: number;
  kind: SlotKind;
}

/** One user code slot as the panel reports it. Never carries the code itself. */
export interface UserSlot {
  slot: number;
  kind: SlotKind;
  name?: string;
  /** Driver-specific user type, e.g. INTEGRA "normal", "duress", "schedule". */
  type?: string;
  partitions?: number[];
  /** Whether a code is programmed in this slot. */
  hasCode: boolean;
  /** Whether the credential we logged in with may edit this slot. */
  editable?: boolean;
}

export interface NewUser {
  /** Omitted: the panel (or the driver) picks the next free slot. */
  slot?: number;
  name: string;
  code: Secret;
  partitions?: number[];
  type?: string;
}

export type Capability = 'users.list' | 'users.add' | 'users.set-code' | 'users.remove' | 'users.next-slot' | 'users.verify-code' | 'test-mode' | 'probe';

export interface CodeRules {
  minLength: number;
  maxLength: number;
  /** Lengths the panel accepts, when not every length in min..max is allowed (DSC: 4 or 6). */
  allowedLengths?: number[];
}

/** What a driver can do, known without connecting (so the CLI can refuse early). */
export interface DriverInfo {
  name: string;
  title: string;
  transports: Array<'tcp' | 'serial'>;
  defaultTcpPort?: number;
  defaultSerial?: SerialSettings;
  capabilities: Capability[];
  codeRules: CodeRules;
  slotRanges: SlotRange[];
  /** Names of the secrets the driver needs from the inventory: 'code' is the credential. */
  secrets: Array<{ name: string; label: string; required: boolean }>;
  /** False when the panels keep no user names (DSC): `users add` then takes no --name. */
  userNames?: boolean;
  /** Length and character set of user names, checked before anything is sent (src/core/user-name.ts). */
  nameRules?: NameRules;
  /** What the panel does after wrong credentials, for people typing one (the shell lets them retype below it). */
  credentialLockout?: { attempts?: number; note: string };
  /** Driver-specific inventory options, for help and validation messages. */
  options?: Array<{ name: string; description: string; required?: boolean }>;
}

export interface PanelInfo {
  driver: string;
  model: string;
  firmware?: string;
  module?: string;
  slotRanges: SlotRange[];
  capabilities: Capability[];
  codeRules: CodeRules;
  /** Any other facts worth showing (language, settings stored, serial...). */
  details?: Record<string, string | number | boolean>;
}

export interface TestState {
  active: boolean;
  /** When the panel's own test mode ends by itself, if the panel says. */
  endsAt?: string;
  /** What the panel calls it: "walk test", "engineer mode"... */
  mode?: string;
}

export interface TestModeControl {
  /** Why this panel, as configured, cannot be put on test (a missing installer code...), or undefined. */
  unavailable?(): string | undefined;
  start(options: { minutes: number }): Promise<TestState>;
  stop(): Promise<TestState>;
  status(): Promise<TestState>;
}

/** How far a long read is: called after each step with the slots read so far and the total. */
export type ListProgress = (done: number, total: number) => void;

export interface PanelSession {
  info(): Promise<PanelInfo>;
  /** `progress`, when given, hears (slots read, slots to read) as a long read goes on. */
  listUsers(progress?: ListProgress): Promise<UserSlot[]>;
  /** One slot, or undefined when empty. Used to verify every write. */
  readUser(slot: number): Promise<UserSlot | undefined>;
  createUser(user: NewUser): Promise<UserSlot>;
  changeCode(slot: number, code: Secret): Promise<void>;
  deleteUser(slot: number): Promise<void>;
  /** Proves a code is now in a slot, where the protocol can (INTEGRA: read self-info with it). */
  verifyCode?(slot: number, code: Secret): Promise<boolean>;
  testMode?: TestModeControl;
  close(): Promise<void>;
}

/** Per-panel settings from the inventory that a driver may read (profile, unit, codeLength...). */
export type DriverOptions = Readonly<Record<string, string | number | boolean | undefined>>;

export interface OpenOptions {
  link: Link;
  secrets: Secrets;
  options: DriverOptions;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Frame-level trace for --debug. Drivers must mask code bytes before calling it. */
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

export interface ProbeResult {
  driver: string;
  model: string;
  firmware?: string;
}

export interface PanelDriver {
  describe(): DriverInfo;
  /**
   * The description for one panel's inventory options, still without connecting, where they change
   * it (a Modbus profile's slots and code lengths). Lets the CLI refuse a bad slot or code, and
   * generate a code of the right length, before anything is sent.
   */
  describeFor?(options: DriverOptions): Promise<DriverInfo>;
  open(options: OpenOptions): Promise<PanelSession>;
  /** A harmless identification request on an already-open stream; undefined if nothing recognisable answered. */
  probe?(stream: ByteStream, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ProbeResult | undefined>;
}

/** Options every simulator understands; drivers add their own via `options`. */
export interface SimulatorOptions {
  /** JSON file the simulated panel's state is loaded from and saved to. */
  statePath?: string;
  /** Seed this many users when starting from an empty state. */
  users?: number;
  /** Pace output at this many bits per second (pseudo-terminals ignore baud rate). */
  paceBaud?: number;
  options?: Record<string, string | number | boolean | undefined>;
  log?: (line: string) => void;
}

/** A panel model that serves one connection at a time, like the real modules do. */
export interface PanelSimulator {
  /** Hand it a freshly accepted connection (TCP socket or opened serial port). */
  accept(stream: ByteStream): void;
  /** Demo and CLI use: the credential a user needs to talk to this simulated panel, by secret name. */
  demoSecrets(): Record<string, string>;
  /** Settle: save state, drop clients. */
  close(): Promise<void>;
}

export interface SimulatorModule {
  createSimulator(options: SimulatorOptions): Promise<PanelSimulator>;
}
