import type {
  CodeChecker,
  DriverFacets,
  DriverInfo,
  ListProgress,
  NewUser,
  OpenOptions,
  PanelDriver,
  PanelInfo,
  PanelSession,
  ProbeOptions,
  ProbeResult,
  SlotKind,
  TestModeControl,
  TestState,
  UserReader,
  UserSlot,
  UserWriter,
} from '../../src/driver-kit/index.js';
import { capabilitiesOf, NotSupportedError, PanelRefusedError, PanelctlError, ValidationError, VerificationError } from '../../src/driver-kit/index.js';
import type { Link } from '../../src/driver-kit/index.js';
import type { Secret } from '../../src/driver-kit/index.js';
import { FrameChannel } from '../../src/driver-kit/index.js';
import { connect, optionHelpOf, parseDriverOptions } from '../../src/driver-kit/index.js';
import type { DriverOptions } from '../../src/driver-kit/index.js';
import type { ByteStream } from '../../src/driver-kit/index.js';
import type { Framing, ModbusClient } from './client.js';
import {
  decodeCode,
  decodeIdent,
  decodeSlot,
  defaultType,
  encodeCode,
  encodeRecord,
  hasSlot,
  isPrintableAscii,
  lastSlot,
  listOffsets,
  nameCapacity,
  planReads,
  readNumber,
  recordSpan,
  slotAddress,
  slotAt,
  splitWrite,
  writeNumber,
  type SlotRecord,
} from './layout.js';
import { MbapDecoder, encodeMbap } from './mbap.js';
import { readRequest } from './pdu.js';
import { optionsSchema, type ModbusOptions } from './options.js';
import { loadProfile, PROFILE_HINT, shippedProfileNames, type LoadedProfile, type Profile } from './profile.js';
import { RtuDecoder, encodeRtu } from './rtu.js';

/**
 * The generic Modbus driver: one session speaks to one device (a unit on a TCP link or a serial
 * line) through the register map its profile describes. Reads are planned to the fewest requests
 * the device's limits allow; a user is written with one function-16 write where allowed; every
 * change is followed by the profile's apply register when it has one.
 */

// A code is proven by reading its registers back (verifyCode); the rest of a user by reading the slot.
// Test mode only where the profile maps it (profileFacts).
const FACETS: DriverFacets = { writer: { proofs: ['code-check', 'read-back'], nextSlot: true }, reader: true, codeChecker: true, testMode: true, probe: true };

const info: DriverInfo = {
  name: 'modbus',
  title: 'Generic Modbus RTU/TCP with a register-map profile',
  transports: ['tcp', 'serial'],
  defaultTcpPort: 502,
  defaultSerial: { baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 },
  facets: FACETS,
  // A generic default: each profile narrows it, and the driver enforces the profile's own rule.
  codeRules: { minLength: 4, maxLength: 8 },
  // Which slots exist depends on the profile, known only once it is loaded: the driver checks it.
  slotRanges: [{ from: 0, to: 65535, kind: 'user' }],
  secrets: [],
  options: optionHelpOf(optionsSchema),
};

const KINDS: SlotKind[] = ['user', 'master', 'installer', 'service', 'duress', 'supervisor'];

class ModbusSession implements PanelSession, UserWriter, UserReader, CodeChecker {
  readonly writer: UserWriter = this;
  readonly reader: UserReader = this;
  readonly codeChecker: CodeChecker = this;
  /** Only where the profile maps a test mode (as its facets say). */
  readonly testMode?: TestModeControl;
  private readonly profile: Profile;

  constructor(
    private readonly client: ModbusClient,
    private readonly loaded: LoadedProfile,
    private readonly framing: Framing,
  ) {
    this.profile = loaded.profile;
    if (this.profile.testMode) {
      this.testMode = {
        start: (o) => this.startTest(o.minutes),
        stop: () => this.stopTest(),
        status: () => this.testStatus(),
      };
    }
  }

  private get users() {
    return this.profile.users;
  }

  private get where(): string {
    return `on this device (profile ${this.loaded.name})`;
  }

  /* Reading. */

  /** Reads the given registers with as few requests as the profile's limit allows. */
  /** `progress` hears (registers read, registers to read) after each request. */
  private async readAll(addresses: number[], purpose: string, progress?: (read: number, total: number) => void): Promise<Map<number, number>> {
    const values = new Map<number, number>();
    const blocks = planReads(addresses, this.profile.limits.maxReadRegisters);
    const total = blocks.reduce((n, block) => n + block.count, 0);
    let read = 0;
    for (const block of blocks) {
      progress?.(read, total);
      const data = await this.client.readRegisters(block.address, block.count, purpose);
      data.forEach((v, i) => values.set(block.address + i, v));
      read += block.count;
    }
    return values;
  }

  private slotRecord(values: Map<number, number>, slot: number): SlotRecord {
    const base = slotAddress(this.users, slot);
    return decodeSlot((offset) => values.get(base + offset) ?? 0, this.profile);
  }

  private toUserSlot(slot: number, record: SlotRecord): UserSlot {
    const type = record.type ?? (record.typeValue !== undefined ? `unknown (${record.typeValue})` : undefined);
    const kind = KINDS.find((k) => k === record.type) ?? 'user';
    return {
      slot,
      kind,
      name: record.name,
      ...(type !== undefined ? { type } : {}),
      ...(record.partitions ? { partitions: record.partitions } : {}),
      hasCode: record.hasCode,
      editable: true,
    };
  }

  async info(): Promise<PanelInfo> {
    const id = this.profile.identification;
    const fields = Object.entries(id).filter((entry): entry is [string, NonNullable<(typeof id)['model']>] => entry[1] !== undefined);
    const values = await this.readAll(
      fields.flatMap(([, f]) => Array.from({ length: f.registers }, (_, i) => f.address + i)),
      'reading the identification registers',
    );
    const text = (key: string) => {
      const f = fields.find(([k]) => k === key)?.[1];
      return f
        ? decodeIdent(
            Array.from({ length: f.registers }, (_, i) => values.get(f.address + i) ?? 0),
            f.encoding,
            this.profile.wordOrder,
          )
        : undefined;
    };
    const serial = text('serial');
    const { facets, ...facts } = profileFacts(this.profile);
    return {
      driver: 'modbus',
      model: text('model') || this.profile.model,
      firmware: text('firmware'),
      module: `Modbus ${this.framing === 'mbap' ? 'TCP' : 'RTU'} unit ${this.client.unit}`,
      ...facts,
      capabilities: capabilitiesOf(facets),
      details: {
        profile: this.loaded.name,
        'profile model': this.profile.model,
        ...(serial ? { serial } : {}),
        slots: this.users.slots,
      },
    };
  }

  async listUsers(progress?: ListProgress): Promise<UserSlot[]> {
    const offsets = listOffsets(this.users);
    const addresses: number[] = [];
    for (let slot = this.users.firstSlot; slot <= lastSlot(this.users); slot++) {
      const base = slotAddress(this.users, slot);
      for (const offset of offsets) addresses.push(base + offset);
    }
    const slots = lastSlot(this.users) - this.users.firstSlot + 1;
    const values = await this.readAll(addresses, 'reading the user table', progress && ((read, total) => progress(Math.floor((read / total) * slots), slots)));
    const users: UserSlot[] = [];
    for (let slot = this.users.firstSlot; slot <= lastSlot(this.users); slot++) {
      const record = this.slotRecord(values, slot);
      if (record.present) users.push(this.toUserSlot(slot, record));
    }
    return users;
  }

  private checkSlot(slot: number): void {
    if (!hasSlot(this.users, slot)) throw new ValidationError('--slot', `must be ${this.users.firstSlot}-${lastSlot(this.users)} ${this.where}`);
  }

  private async readRecord(slot: number, offsets = listOffsets(this.users)): Promise<SlotRecord> {
    const base = slotAddress(this.users, slot);
    return this.slotRecord(
      await this.readAll(
        offsets.map((o) => base + o),
        `reading slot ${slot}`,
      ),
      slot,
    );
  }

  async readUser(slot: number): Promise<UserSlot | undefined> {
    this.checkSlot(slot);
    const record = await this.readRecord(slot);
    return record.present ? this.toUserSlot(slot, record) : undefined;
  }

  /* Writing. */

  private checkCode(code: Secret): string {
    const digits = code.reveal();
    const { minLength, maxLength } = this.users.code;
    const length = minLength === maxLength ? `${minLength}` : `${minLength} to ${maxLength}`;
    if (!/^\d+$/.test(digits) || digits.length < minLength || digits.length > maxLength)
      throw new ValidationError('code', `must be ${length} digits ${this.where}`);
    return digits;
  }

  /**
   * Writes a run of registers: one function 16 when it fits, else several (or one function 6
   * per register on devices without 16). When it takes several, the flags register goes last
   * for a new user and first for a removal, so a slot is never live half-written.
   */
  private async writeRun(address: number, values: number[], purpose: string, flags?: { address: number; first: boolean }): Promise<void> {
    const { writeMultiple, maxWriteRegisters } = this.profile.limits;
    if (writeMultiple && values.length <= maxWriteRegisters) return this.client.writeRegisters(address, values, purpose);
    const writeParts = async (from: number, run: number[]) => {
      if (!run.length) return;
      if (writeMultiple) for (const part of splitWrite(from, run, maxWriteRegisters)) await this.client.writeRegisters(part.address, part.values, purpose);
      else for (let i = 0; i < run.length; i++) await this.client.writeRegister(from + i, run[i], purpose);
    };
    if (!flags || flags.address < address || flags.address >= address + values.length) return writeParts(address, values);
    const at = flags.address - address;
    const writeFlags = () => this.client.writeRegister(flags.address, values[at], purpose);
    if (flags.first) await writeFlags();
    await writeParts(address, values.slice(0, at));
    await writeParts(flags.address + 1, values.slice(at + 1));
    if (!flags.first) await writeFlags();
  }

  /** Devices with a commit register act on a change only once it is written. */
  private async applyChanges(): Promise<void> {
    const apply = this.profile.apply;
    if (apply) await this.client.writeRegister(apply.address, apply.value, 'applying the change (commit register)');
  }

  /** The lowest empty slot, reading flags a block at a time and stopping at the first free one (cheap on slow lines). */
  private async nextFreeSlot(): Promise<number> {
    const u = this.users;
    const flagsOf = (slot: number) => slotAddress(u, slot) + u.flags.offset;
    const slots = Array.from({ length: u.slots }, (_, i) => u.firstSlot + i);
    for (const block of planReads(slots.map(flagsOf), this.profile.limits.maxReadRegisters)) {
      const values = await this.client.readRegisters(block.address, block.count, 'looking for a free slot');
      const free = slots.find(
        (slot) =>
          flagsOf(slot) >= block.address &&
          flagsOf(slot) < block.address + block.count &&
          ((values[flagsOf(slot) - block.address] >> u.flags.present) & 1) === 0,
      );
      if (free !== undefined) return free;
    }
    throw new PanelRefusedError('E_FULL', `every user slot ${u.firstSlot}-${lastSlot(u)} is taken`);
  }

  async createUser(user: NewUser): Promise<UserSlot> {
    const u = this.users;
    if (user.name.length > nameCapacity(u.name)) throw new ValidationError('--name', `must be at most ${nameCapacity(u.name)} characters ${this.where}`);
    if (!isPrintableAscii(user.name)) throw new ValidationError('--name', `must be plain ASCII letters, digits and punctuation ${this.where}`);
    if (user.type !== undefined && !u.type) throw new ValidationError('--type', `this device has no user types (profile ${this.loaded.name})`);
    if (user.type !== undefined && u.type && !(user.type in u.type.values))
      throw new ValidationError('--type', `must be one of ${Object.keys(u.type.values).join(', ')} ${this.where}`);
    if (user.partitions?.length && !u.partitions) throw new ValidationError('--partitions', `this device has no partitions (profile ${this.loaded.name})`);
    if (u.partitions && user.partitions?.some((p) => !Number.isInteger(p) || p < 1 || p > u.partitions!.count)) {
      throw new ValidationError('--partitions', `must be partitions 1..${u.partitions.count} ${this.where}`);
    }
    const digits = this.checkCode(user.code);
    const slot = user.slot ?? (await this.nextFreeSlot());
    this.checkSlot(slot);

    const span = recordSpan(u);
    const base = slotAddress(u, slot);
    const addresses = Array.from({ length: span.to - span.from + 1 }, (_, i) => base + span.from + i);
    const current = await this.readAll(addresses, `reading slot ${slot}`);
    const existing = this.slotRecord(current, slot);
    if (existing.present) {
      throw new PanelRefusedError('E_SLOT_TAKEN', `slot ${slot} is already used${existing.name ? ` by "${existing.name}"` : ''}`, { data: { slot } });
    }
    const partitions = u.partitions ? (user.partitions?.length ? user.partitions : [1]) : undefined;
    const type = u.type ? (user.type ?? defaultType(this.profile)) : undefined;
    const values = encodeRecord(
      addresses.map((a) => current.get(a) ?? 0),
      this.profile,
      { name: user.name, code: digits, type, partitions },
    );
    await this.codeWrite(slot, () => this.writeRun(base + span.from, values, `writing user ${slot}`, { address: base + u.flags.offset, first: false }));
    await this.applyChanges();
    return {
      slot,
      kind: KINDS.find((k) => k === type) ?? 'user',
      name: user.name,
      ...(type ? { type } : {}),
      ...(partitions ? { partitions } : {}),
      hasCode: true,
      editable: true,
    };
  }

  /** A write that carries a code: a refused value almost always means the code (taken, or against the device's rules). */
  private async codeWrite(slot: number, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof PanelctlError && error.code === 'E_MODBUS_ILLEGAL_VALUE') {
        throw new PanelRefusedError(
          'E_CODE_REJECTED',
          `the device refused the write to slot ${slot}: the code may already belong to another user, or a value breaks the device's rules (${error.message.replace(/^.*\((Modbus exception [^)]*)\)$/, '$1')})`,
          {
            hint: 'choose another code (or --generate one)',
            data: { slot },
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  async changeCode(slot: number, code: Secret): Promise<void> {
    this.checkSlot(slot);
    const digits = this.checkCode(code);
    const record = await this.readRecord(slot);
    if (!record.present) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`, { data: { slot } });
    const c = this.users.code;
    await this.codeWrite(slot, () =>
      this.writeRun(slotAddress(this.users, slot) + c.offset, encodeCode(digits, c, this.profile.wordOrder), `writing the code of user ${slot}`),
    );
    await this.applyChanges();
  }

  async deleteUser(slot: number): Promise<void> {
    this.checkSlot(slot);
    const u = this.users;
    const span = recordSpan(u);
    const base = slotAddress(u, slot);
    const addresses = Array.from({ length: span.to - span.from + 1 }, (_, i) => base + span.from + i);
    const current = await this.readAll(addresses, `reading slot ${slot}`);
    if (!this.slotRecord(current, slot).present) throw new PanelRefusedError('E_NO_SUCH_USER', `there is no user in slot ${slot}`, { data: { slot } });
    const values = encodeRecord(
      addresses.map((a) => current.get(a) ?? 0),
      this.profile,
      undefined,
    );
    await this.writeRun(base + span.from, values, `removing user ${slot}`, { address: base + u.flags.offset, first: true });
    await this.applyChanges();
  }

  /** The code registers read back equal to the code written (compared here; never returned). */
  async verifyCode(slot: number, code: Secret): Promise<boolean> {
    const c = this.users.code;
    if (!c.readable) return false; // the device hides codes: the operation falls back to reading the slot
    const base = slotAddress(this.users, slot) + c.offset;
    const values = await this.client.readRegisters(base, c.registers, `reading back the code of user ${slot}`);
    const back = decodeCode(values, c, this.profile.wordOrder);
    const expected = encodeCode(code.reveal(), c, this.profile.wordOrder);
    let differ = 0;
    for (let i = 0; i < expected.length; i++) differ |= expected[i] ^ (values[i] ?? 0);
    if (back.kind !== 'code' || differ !== 0) throw new VerificationError(`the code registers of slot ${slot} do not read back as the code written`);
    return true;
  }

  /* Test mode. */

  private testProfile() {
    const t = this.profile.testMode;
    if (!t) throw new NotSupportedError(`this device has no test mode in its profile (${this.loaded.name})`);
    return t;
  }

  private async startTest(minutes: number): Promise<TestState> {
    const t = this.testProfile();
    const d = t.duration;
    const amount = d.unit === 'seconds' ? Math.round(minutes * 60) : Math.ceil(minutes);
    const max = durationMax(d.registers);
    if (!(amount >= 1)) throw new ValidationError('--for', `must be at least 1 ${d.unit === 'seconds' ? 'second' : 'minute'} ${this.where}`);
    if (amount > max) throw new ValidationError('--for', `must be at most ${max} ${d.unit} ${this.where}`);
    await this.writeRun(d.address, writeNumber(amount, d.registers, this.profile.wordOrder), 'setting the test-mode duration');
    if ('coil' in t.control) await this.client.writeCoil(t.control.coil, true, 'starting test mode');
    else await this.client.writeRegister(t.control.register, t.control.on, 'starting test mode');
    const state = await this.testStatus();
    if (!state.active) throw new VerificationError('the device accepted the start of test mode but does not report it active');
    return state;
  }

  private async stopTest(): Promise<TestState> {
    const t = this.testProfile();
    if ('coil' in t.control) await this.client.writeCoil(t.control.coil, false, 'ending test mode');
    else await this.client.writeRegister(t.control.register, t.control.off, 'ending test mode');
    const state = await this.testStatus();
    if (state.active) throw new VerificationError('the device accepted the end of test mode but still reports it active');
    return state;
  }

  private async testStatus(): Promise<TestState> {
    const t = this.testProfile();
    const wanted: number[] = [];
    if ('register' in t.status) wanted.push(t.status.register);
    if (t.remaining) for (let i = 0; i < t.remaining.registers; i++) wanted.push(t.remaining.address + i);
    const values = wanted.length ? await this.readAll(wanted, 'reading the test-mode status') : new Map<number, number>();
    let active: boolean;
    if ('coil' in t.status) active = (await this.client.readCoils(t.status.coil, 1, 'reading the test-mode status'))[0];
    else {
      const value = values.get(t.status.register) ?? 0;
      active = t.status.active !== undefined ? value === t.status.active : value !== 0;
    }
    const state: TestState = { active, mode: t.mode };
    if (active && t.remaining) {
      const left = readNumber(
        Array.from({ length: t.remaining.registers }, (_, i) => values.get(t.remaining!.address + i) ?? 0),
        t.remaining.registers,
        this.profile.wordOrder,
      );
      state.endsAt = new Date(Date.now() + left * (t.remaining.unit === 'seconds' ? 1000 : 60_000)).toISOString();
    }
    return state;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Whether a register holds code digits, for masking traces. */
function codeRegisterTest(profile: Profile): (address: number) => boolean {
  const c = profile.users.code;
  return (address) => {
    const at = slotAt(profile.users, address);
    return at !== undefined && at.offset >= c.offset && at.offset < c.offset + c.registers;
  };
}

interface ProbeFrame {
  unit: number;
  pdu: Buffer;
  transactionId?: number;
}

/** Either framing's decoder as one FrameDecoder, for the probe. */
function probeDecoder(framing: Framing) {
  const rtu = framing === 'rtu' ? new RtuDecoder('response') : undefined;
  const mbap = rtu ? undefined : new MbapDecoder();
  return { push: (chunk: Uint8Array): ProbeFrame[] => (rtu ? rtu.push(chunk) : mbap!.push(chunk)) };
}

/**
 * What `users add --type/--partitions` and `test-mode start --for` may say is the profile's, known before connecting
 * (exit 2 without contact; the station is not told about a test window the device cannot hold).
 */
function profileLimits(profile: Profile, name: string): Pick<DriverInfo, 'addRefuses' | 'addAccepts' | 'testModeLimit'> {
  const { type, partitions } = profile.users;
  const where = `(profile ${name})`;
  const duration = profile.testMode?.duration;
  const most = duration && durationMax(duration.registers);
  return {
    ...(duration && most
      ? {
          testModeLimit: {
            maxMinutes: duration.unit === 'seconds' ? most / 60 : most,
            why: `its duration register holds at most ${most} ${duration.unit} ${where}`,
          },
        }
      : {}),
    addRefuses: {
      ...(type ? {} : { type: `this device has no user types ${where}: leave --type out` }),
      ...(partitions ? {} : { partitions: `this device has no partitions ${where}: leave --partitions out` }),
    },
    addAccepts: { types: type ? Object.keys(type.values) : undefined, partitions: partitions?.count, where },
  };
}

/** The largest number a test-mode duration of one or two registers holds. */
function durationMax(registers: number): number {
  return registers === 1 ? 0xffff : 0xffffffff;
}

/** What a profile decides about a panel: its slots, code lengths, and whether it has a test mode. */
function profileFacts(profile: Profile): Pick<DriverInfo, 'slotRanges' | 'facets' | 'codeRules' | 'nameRules'> {
  return {
    // Names are printable ASCII, two characters per register (layout.ts), checked before sending.
    nameRules: { maxLength: nameCapacity(profile.users.name), charset: 'ascii', charsetTitle: 'printable ASCII' },
    slotRanges: [{ from: profile.users.firstSlot, to: lastSlot(profile.users), kind: 'user' }],
    facets: { ...FACETS, testMode: profile.testMode !== undefined },
    codeRules: { minLength: profile.users.code.minLength, maxLength: profile.users.code.maxLength },
  };
}

const PROBE_UNIT = 1;
const PROBE_TRANSACTION = 0x7a11;

interface SessionSettings {
  loaded: LoadedProfile;
  unit: number;
  framing: Framing;
}

/** The options as options.ts declares them; the hint says where a missing profile goes. */
function parsedOptions(options: DriverOptions): ModbusOptions {
  return parseDriverOptions(optionsSchema, options, { profile: PROFILE_HINT });
}

async function sessionSettings(options: OpenOptions): Promise<SessionSettings> {
  const parsed = parsedOptions(options.options);
  const loaded = await loadProfile(parsed.profile);
  const unit = parsed.unit;
  const framing = parsed.framing ?? (options.link.kind === 'tcp' ? 'mbap' : 'rtu');
  if (unit === 0 && framing === 'rtu') throw new ValidationError('options.unit', 'must be 1..247 on a serial line (unit 0 is broadcast, which never answers)');
  return { loaded, unit, framing };
}

/**
 * A session over a stream that is already open. driver.open connects first; the fuzz harness
 * passes an in-memory stream and watches what the client holds.
 */
export async function modbusSessionOn(
  stream: ByteStream,
  options: OpenOptions,
  settings?: SessionSettings,
): Promise<{ session: PanelSession; client: ModbusClient }> {
  const { loaded, unit, framing } = settings ?? (await sessionSettings(options));
  // modbus-serial (and the serialport it pulls in) loads only when a session opens, not for describe() or probe.
  const { ModbusClient } = await import('./client.js');
  const client = await ModbusClient.open(stream, {
    unit,
    framing,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    interRequestDelayMs: loaded.profile.limits.interRequestDelayMs,
    trace: options.trace,
    isSecretRegister: codeRegisterTest(loaded.profile),
  });
  return { session: new ModbusSession(client, loaded, framing), client };
}

export const driver: PanelDriver = {
  describe: () => info,

  async describeFor(options) {
    const loaded = await loadProfile(parsedOptions(options).profile);
    return { ...info, ...profileFacts(loaded.profile), ...profileLimits(loaded.profile, loaded.name) };
  },

  async open(options: OpenOptions): Promise<PanelSession> {
    // Everything that can be wrong with the settings is found before connecting.
    const settings = await sessionSettings(options);
    const stream = await connect(options.link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    return (await modbusSessionOn(stream, options, settings)).session;
  },

  /**
   * Reads the identification registers of each shipped profile from unit 1: read-only, and a
   * strictly checked answer (CRC or transaction id, unit, function, length), so no other
   * protocol's bytes pass for Modbus. An exception answer still proves a Modbus device.
   */
  async probe(link: Link, options: ProbeOptions): Promise<ProbeResult | undefined> {
    const stream = await connect(link, { tcpPort: info.defaultTcpPort, serial: info.defaultSerial }, options);
    try {
      return await probeOn(stream, link.kind === 'serial' ? 'rtu' : 'mbap', options);
    } finally {
      await stream.close();
    }
  },
};

/** The probe's identification reads on an open stream (see driver.probe). */
async function probeOn(stream: ByteStream, framing: Framing, options: ProbeOptions): Promise<ProbeResult | undefined> {
  const channel = new FrameChannel(stream, probeDecoder(framing), 'device');
  let answered = false;
  for (const name of await shippedProfileNames()) {
    const profile = (await loadProfile(name)).profile;
    const fields = Object.values(profile.identification).filter((f) => f !== undefined);
    const from = Math.min(...fields.map((f) => f.address));
    const to = Math.max(...fields.map((f) => f.address + f.registers - 1));
    const whole = to - from + 1 <= profile.limits.maxReadRegisters;
    const model = profile.identification.model;
    const [address, count] = whole ? [from, to - from + 1] : [model.address, model.registers];
    const pdu = readRequest(3, address, count);
    const bytes = framing === 'rtu' ? encodeRtu(PROBE_UNIT, pdu) : encodeMbap(PROBE_TRANSACTION, PROBE_UNIT, pdu);
    let answer: ProbeFrame;
    try {
      answer = await channel.request(
        bytes,
        (f) => f.unit === PROBE_UNIT && (f.transactionId === undefined || f.transactionId === PROBE_TRANSACTION) && (f.pdu[0] === 3 || f.pdu[0] === 0x83),
        options,
      );
    } catch {
      return undefined;
    }
    answered = true;
    if (answer.pdu[0] === 0x83) {
      const code = answer.pdu[1];
      if (code === 10 || code === 11) return { driver: 'modbus', model: `Modbus TCP gateway (no device answers as unit ${PROBE_UNIT})` };
      // Another device model: it answers, but not where this profile's identification is.
      continue;
    }
    if (answer.pdu[1] !== count * 2 || answer.pdu.length !== 2 + count * 2) return undefined;
    const value = (f: { address: number; registers: number; encoding: string }) =>
      decodeIdent(
        Array.from({ length: f.registers }, (_, i) => answer.pdu.readUInt16BE(2 + (f.address - address + i) * 2)),
        f.encoding,
        profile.wordOrder,
      );
    const text = value(model);
    if (model.expect !== undefined && !text.startsWith(model.expect)) continue;
    const firmware = whole && profile.identification.firmware ? value(profile.identification.firmware) : undefined;
    return { driver: 'modbus', model: `${text || profile.model} (profile ${name}, unit ${PROBE_UNIT})`, ...(firmware ? { firmware } : {}) };
  }
  // It speaks Modbus, but no shipped profile fits it.
  return answered
    ? { driver: 'modbus', model: `Modbus device at unit ${PROBE_UNIT} (no shipped profile fits it: write one, see drivers/modbus/README.md)` }
    : undefined;
}
