import type { ZodType } from 'zod';
import type { NameRules } from './user-name.js';
import type { Link, SerialSettings, TransportKind } from './link.js';
import type { Secret, Secrets } from './secret.js';
import type { ByteStream } from './byte-stream.js';

/** What a slot is for. Drivers map their panel's numbering onto these. */
export type SlotKind = 'user' | 'master' | 'installer' | 'service' | 'duress' | 'supervisor';

export type SlotAction = 'add' | 'set-code' | 'remove';

/** What an operation opens a panel for, so only the secrets it needs are read or asked for. */
export type SecretUse = 'info' | 'users' | 'test-mode';

export interface SlotRange {
  from: number;
  to: number;
  kind: SlotKind;
  /**
   * Rules that depend only on the inventory and the slot number: these actions are refused on
   * these slots before anything is sent (exit 2), with the reason and what to do instead.
   */
  refuse?: Partial<Record<SlotAction, { reason: string; hint?: string }>>;
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

/**
 * How a write is proven, strongest first. code-check: the panel confirms the new code is in that
 * slot (INTEGRA "which user has this code", Modbus code registers). read-back: the slot is read
 * again and shows the change. panel-ack: the panel acknowledged the request or keystrokes and
 * nothing can be read back.
 */
export type Proof = 'code-check' | 'read-back' | 'panel-ack';

export const PROOFS_STRONGEST_FIRST: readonly Proof[] = ['code-check', 'read-back', 'panel-ack'];

/**
 * What a driver's sessions offer, declared in its DriverInfo and so known before connecting. The
 * capability strings are derived from it (capabilitiesOf), and a session must offer exactly these
 * members (checked when a panel is opened, and by the conformance suite): one source, no disagreement.
 */
export interface DriverFacets {
  /** Absent: this driver cannot change users. `proofs`: how its writes can be proven, strongest first. */
  writer?: { proofs: Proof[]; nextSlot: boolean };
  reader: boolean;
  codeChecker: boolean;
  testMode: boolean;
  probe: boolean;
}

/** The capability strings (help, `info`, early refusals), derived from the facets: never written by hand. */
export function capabilitiesOf(facets: DriverFacets): Capability[] {
  const capabilities: Capability[] = [];
  if (facets.reader) capabilities.push('users.list');
  if (facets.writer) capabilities.push('users.add', 'users.set-code', 'users.remove');
  if (facets.writer?.nextSlot) capabilities.push('users.next-slot');
  if (facets.codeChecker) capabilities.push('users.verify-code');
  if (facets.testMode) capabilities.push('test-mode');
  if (facets.probe) capabilities.push('probe');
  return capabilities;
}

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
  transports: TransportKind[];
  defaultTcpPort?: number;
  defaultSerial?: SerialSettings;
  /** What its sessions offer and how its writes are proven; capabilitiesOf(facets) gives the capability strings. */
  facets: DriverFacets;
  codeRules: CodeRules;
  slotRanges: SlotRange[];
  /**
   * Names of the secrets the driver needs from the inventory: 'code' is the credential.
   * `neededFor`: the only kinds of operation that use it (absent: every one); for the others it
   * is neither read nor asked for (a `prompt` installer code is not asked for by `users list`).
   * `requiredFor`: the kinds of operation that cannot work without it although it is optional (never asked
   * for): one started on a panel whose inventory entry configures none is refused before the panel is contacted.
   */
  secrets: Array<{ name: string; label: string; required: boolean; neededFor?: SecretUse[]; requiredFor?: SecretUse[] }>;
  /**
   * For a panel set up without a reader: why it cannot read users back and what would (another module, a log), named
   * by every refusal that needs one (a list, the next free slot) next to what still works.
   */
  withoutReader?: { why: string; instead: string };
  /** False when the panels keep no user names (DSC): `users add` then takes no --name. */
  userNames?: boolean;
  /** Length and character set of user names, checked before anything is sent (src/core/user-name.ts). */
  nameRules?: NameRules;
  /**
   * What `users add` cannot set on these panels, each with why and what decides it instead: given anyway, it is
   * exit 2 before the panel is contacted, never dropped while the user is created without it.
   */
  addRefuses?: Partial<Record<'partitions' | 'type', string>>;
  /**
   * What `users add` takes where the driver knows it without connecting (a Modbus profile, INTEGRA's user types):
   * `--type` one of `types`, `--partitions` numbers 1..`partitions` (`where`: what says so, for messages, e.g.
   * "(profile demo-modbus)"). Anything else is exit 2 before the panel is contacted.
   */
  addAccepts?: { types?: readonly string[]; partitions?: number; where?: string };
  /**
   * The longest test window this panel can be given, where the driver knows it without connecting (a Modbus
   * profile's duration register), and why: a longer `test-mode start --for` is exit 2 before the station or the
   * panel hears anything.
   */
  testModeLimit?: { maxMinutes: number; why: string };
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
  /** What this panel, as configured, can do: capabilitiesOf(its facets), narrowed where the setup lacks something. */
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

/** Changes users. Each call resolves only once the panel acknowledged the change. */
export interface UserWriter {
  /** Without `user.slot`, only when the facets say nextSlot: the driver or the panel picks one. */
  createUser(user: NewUser): Promise<UserSlot>;
  changeCode(slot: number, code: Secret): Promise<void>;
  deleteUser(slot: number): Promise<void>;
}

/** Reads users back: panels that can list them or read one slot. */
export interface UserReader {
  /** `progress`, when given, hears (slots read, slots to read) as a long read goes on. */
  listUsers(progress?: ListProgress): Promise<UserSlot[]>;
  /** One slot, or undefined when empty. */
  readUser(slot: number): Promise<UserSlot | undefined>;
}

/** Proves a code is now in a slot, where the protocol can (INTEGRA 0xE0/0xE1, Modbus code registers). */
export interface CodeChecker {
  /** True: proven. False: this protocol cannot tell for this user. Throws when the code is proven not there. */
  verifyCode(slot: number, code: Secret): Promise<boolean>;
}

/** One open connection to a panel. Which members are present is declared by DriverInfo.facets. */
export interface PanelSession {
  info(): Promise<PanelInfo>;
  writer?: UserWriter;
  reader?: UserReader;
  codeChecker?: CodeChecker;
  testMode?: TestModeControl;
  close(): Promise<void>;
  /**
   * For a panel that wants a pause between one answer and the next request (MAP 5000: 1 s): when this
   * session's last answer came, as wall-clock milliseconds (Date.now()), or undefined before any answer.
   * Read after close(); the panel's work lock keeps it for the next session on that panel, in any process.
   */
  lastContactAt?(): number | undefined;
  /**
   * For a panel that asks for a longer silence after some answers (MAP 5000: 60 s after an overload 503):
   * the wall-clock milliseconds before which it must not be contacted, when this session ended inside such
   * a silence; undefined otherwise. Read after close() and kept with lastContactAt for the next session.
   */
  quietUntil?(): number | undefined;
}

/** Per-panel settings from the inventory that a driver may read (profile, unit, codeLength...). */
export type DriverOptions = Readonly<Record<string, string | number | boolean | undefined>>;

export interface OpenOptions {
  link: Link;
  secrets: Secrets;
  /**
   * Names of the secrets the inventory configures for this panel, read for this operation or not
   * (DriverInfo.secrets[].neededFor): lets `info` say test mode is available without reading its code.
   */
  configuredSecrets?: readonly string[];
  options: DriverOptions;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Frame-level trace for --debug. Drivers must mask code bytes before calling it. */
  trace?: (direction: 'tx' | 'rx', text: string) => void;
  /**
   * When the previous session on this panel (this process or another) had its last answer, as wall-clock
   * milliseconds (PanelSession.lastContactAt), if one was recorded. A driver that paces its requests waits
   * out the rest of its interval before the first one (`sinceLastContact`: never longer than the interval).
   */
  lastContactAt?: number;
  /**
   * The previous session's PanelSession.quietUntil, if recorded and still ahead: a driver sends nothing
   * before it (`quietLeft`: never longer than the silence the driver itself would keep), and tells `onQuiet`.
   */
  quietUntil?: number;
  /**
   * Told when the driver will hold its first request back past its usual interval: `until` in wall-clock ms
   * and `why` with the panel as subject ("asked for 60 s without requests after an overload"). The
   * operations layer shows it on stderr with the panel's name and the local time.
   */
  onQuiet?: (quiet: { until: number; why: string }) => void;
}

export interface ProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
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
  /**
   * A harmless identification request at `link` (one of this driver's transports, with its default port or line
   * settings filled in): the driver opens what it needs through the kit, and closes it. Undefined if nothing
   * recognisable answered; a link that cannot be reached throws the transport's typed error (UnreachableError).
   */
  probe?(link: Link, options: ProbeOptions): Promise<ProbeResult | undefined>;
}

/** Options every simulator understands; drivers add their own via `options`. */
export interface SimulatorOptions {
  /** JSON file the simulated panel's state is loaded from and saved to. */
  statePath?: string;
  /** Seed this many users when starting from an empty state. */
  users?: number;
  /** Pace output at this many bits per second (pseudo-terminals ignore baud rate). */
  paceBaud?: number;
  /** Where it will be served: a simulator picks its own mode from it (DSC: IT-100 on serial, Envisalink on TCP). */
  servedOn?: 'tcp' | 'serial';
  options?: Record<string, string | number | boolean | undefined>;
  log?: (line: string) => void;
}

/** Where a self-serving simulator listens, and what a client then uses to reach it. */
export interface SimulatorEndpoint {
  /** The link a client connects to, e.g. https://127.0.0.1:8443 (with `tls` pinning the simulator's own certificate). */
  link: Link;
  close(): Promise<void>;
}

/**
 * A panel model that serves one connection at a time, like the real modules do. A byte-stream simulator takes
 * each accepted connection (`accept`; the kit's serveSimulator serves it on TCP or serial); a simulator of a
 * panel that is not a byte stream (HTTPS) listens on its own (`listen`). It has one or the other.
 */
export interface PanelSimulator {
  /** Hand it a freshly accepted connection (TCP socket or opened serial port). */
  accept?(stream: ByteStream): void;
  /** Serve on `host:port` itself (port 0: any free port). */
  listen?(host: string, port: number): Promise<SimulatorEndpoint>;
  /** Demo and CLI use: the credential a user needs to talk to this simulated panel, by secret name. */
  demoSecrets(): Record<string, string>;
  /** Settle: save state, drop clients. */
  close(): Promise<void>;
}

export interface SimulatorModule {
  createSimulator(options: SimulatorOptions): Promise<PanelSimulator>;
  /** The `--set` names the simulator reads: `panelctl sim` refuses any other, which it would silently ignore (a typo). */
  simulatorOptions?: readonly string[];
}

/**
 * Which drivers exist, and how to load one. The CLI's composition root builds it from
 * drivers/index.ts and hands it to everything below (operations, bulk, inventory checks) through
 * OperationContext, so a test can run the whole CLI with a registry holding a test driver.
 */
/** The schemas a driver exports from drivers/<name>/options.ts: the inventory checks each panel with them (issue 15 item 3). */
export interface DriverSchemas {
  optionsSchema: ZodType;
  /** An object schema whose keys are the secret names the driver takes (values are checked as references, elsewhere). */
  secretsSchema?: ZodType;
}

export interface DriverRegistry {
  readonly names: readonly string[];
  /** Rejects a name not in `names` (a bug: names are checked where they are typed). */
  load(name: string): Promise<PanelDriver>;
  loadSimulator(name: string): Promise<SimulatorModule>;
  /** The driver's option and secret schemas; absent (or undefined) when it declares none. */
  loadSchemas?(name: string): Promise<DriverSchemas | undefined>;
}
