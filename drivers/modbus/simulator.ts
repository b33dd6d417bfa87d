import type { PanelSimulator, SimulatorOptions } from '../../src/driver-kit/index.js';
import { FaultKnobs, listenTcp, loadState, pacedOutput, saveState, simNumber } from '../../src/driver-kit/index.js';
import type { ByteStream } from '../../src/driver-kit/index.js';
import {
  blankCode,
  decodeCode,
  decodeSlot,
  defaultType,
  encodeCode,
  encodeName,
  encodePartitions,
  fromU32,
  isPrintableAscii,
  readNumber,
  slotAddress,
  slotAt,
  writeNumber,
} from './layout.js';
import { MbapDecoder, encodeMbap } from './mbap.js';
import { bitsResponse, exceptionResponse, isWrite, parseRequest, registersResponse, writeResponse, type Request } from './pdu.js';
import { loadProfile, type LoadedProfile, type Profile } from './profile.js';
import { RtuDecoder, encodeRtu } from './rtu.js';

/**
 * A Modbus device that follows a profile: holding registers and coils, the user table with the
 * checks a device makes (valid code encoding, no duplicate codes, known types), the commit
 * ("apply") register, identification registers, and a test mode that ends by itself. It is a
 * standard Modbus server (any client can read and write it) over TCP (MBAP) or RTU (CRC checked,
 * frames found by length, resync on silence), with our own framing: see shared/notes/tooling.md
 * for why not modbus-serial's servers.
 */

export interface ModbusFaults {
  /** Delay every answer by this many ms. */
  latencyMs: number;
  /** Swallow the next N answers (the requests are still carried out). */
  dropReplies: number;
  /** Answer the next `exceptionCount` requests (of kind `exceptionOn`) with this exception, doing nothing. 0: off. */
  exceptionCode: number;
  exceptionCount: number;
  exceptionOn: 'any' | 'read' | 'write';
  /** Send the next N answers with another unit id (a confused gateway). */
  wrongUnitReplies: number;
}

export interface SimUserView {
  name: string;
  code?: string;
  enabled?: boolean;
  hasCode: boolean;
  type?: string;
  partitions?: number[];
}

interface SavedState {
  format: 'panelctl-modbus-sim/1';
  profile: string;
  /** Holding registers that are not zero, by address. */
  holding: Record<string, number>;
  /** Coils that are on. */
  coils: number[];
  testModeEndsAt?: string;
  /** For people and tests reading the file: the user table decoded (ignored when loading). */
  users?: Record<string, SimUserView>;
}

const FIRST_NAMES = ['Anna', 'Lars', 'Ingrid', 'Piotr', 'Marta', 'Jonas', 'Olga', 'Erik', 'Zofia', 'Nils', 'Kari', 'Tomasz'];
/** Silence that ends an RTU frame: 3.5 characters at 9600 baud is 4 ms; timers need some slack. */
const RTU_IDLE_MS = 20;

type Answer = Buffer | undefined;

export class ModbusSimulator implements PanelSimulator {
  readonly profile: Profile;
  readonly unit: number;
  readonly mode: 'tcp' | 'rtu';
  readonly holding = new Uint16Array(65536);
  readonly coils = new Uint8Array(65536);
  readonly stats = {
    requests: 0,
    /** Write requests carried out. */
    writes: 0,
    exceptions: 0,
    badFrames: 0,
    /** Requests for another unit that a serial device ignores. */
    ignored: 0,
    connections: 0,
    bytesIn: 0,
    bytesOut: 0,
    /** Requests by function code. */
    functions: {} as Record<number, number>,
    /** The last 200 writes carried out, in order (tests check write order with it). */
    writeLog: [] as Array<{ fc: number; address: number; count: number }>,
  };
  /** Latency and lost answers (the common knobs); the Modbus-only ones below. */
  private readonly link = new FaultKnobs();
  private faults: Omit<ModbusFaults, 'latencyMs' | 'dropReplies'> = { exceptionCode: 0, exceptionCount: 0, exceptionOn: 'any', wrongUnitReplies: 0 };
  /** With an apply register, user-table writes wait here until it is written. */
  private staged?: Uint16Array;
  private testEndsAt?: number;
  private testTimer?: NodeJS.Timeout;
  private readonly clients = new Set<ByteStream>();
  private queue: Promise<void> = Promise.resolve();
  private readonly tableFrom: number;
  private readonly tableTo: number;

  constructor(
    readonly loaded: LoadedProfile,
    private readonly options: SimulatorOptions,
  ) {
    this.profile = loaded.profile;
    const o = options.options ?? {};
    this.unit = Number(o.unit ?? 1);
    // RTU framing on a serial line unless told otherwise; MBAP on TCP.
    this.mode = (o.mode ?? (options.servedOn === 'serial' ? 'rtu' : 'tcp')) === 'rtu' ? 'rtu' : 'tcp';
    const u = this.profile.users;
    this.tableFrom = u.base;
    this.tableTo = u.base + u.slots * u.stride - 1;
    this.setFaults({
      latencyMs: simNumber(options, 'latencyMs'),
      dropReplies: simNumber(options, 'dropReplies'),
      exceptionCode: Number(o.exceptionCode ?? 0),
      exceptionCount: Number(o.exceptionCount ?? (o.exceptionCode ? 1 : 0)),
      exceptionOn: o.exceptionOn === 'read' || o.exceptionOn === 'write' ? o.exceptionOn : 'any',
      wrongUnitReplies: Number(o.wrongUnitReplies ?? 0),
    });
    if (!this.load()) this.seed(options.users ?? 0);
    this.writeIdentification();
    this.save();
  }

  setFaults(faults: Partial<ModbusFaults>): void {
    const { latencyMs, dropReplies, ...own } = faults;
    this.link.set({ latencyMs, dropReplies });
    this.faults = { ...this.faults, ...own };
  }

  /** A Modbus device has no credential. */
  demoSecrets(): Record<string, string> {
    return {};
  }

  listenTcp(host = '127.0.0.1', port = 0) {
    return listenTcp(this, host, port);
  }

  /* The user table, as a person would see it (tests read this; it includes codes). */

  user(slot: number): SimUserView | undefined {
    const u = this.profile.users;
    const base = slotAddress(u, slot);
    const record = decodeSlot((offset) => this.holding[base + offset], this.profile);
    if (!record.present) return undefined;
    const code = decodeCode(this.holding.subarray(base + u.code.offset, base + u.code.offset + u.code.registers), u.code, this.profile.wordOrder);
    return {
      name: record.name,
      ...(code.kind === 'code' ? { code: code.digits } : {}),
      ...(record.enabled !== undefined ? { enabled: record.enabled } : {}),
      hasCode: record.hasCode,
      ...(record.type ? { type: record.type } : {}),
      ...(record.partitions ? { partitions: record.partitions } : {}),
    };
  }

  users(): Record<string, SimUserView> {
    const out: Record<string, SimUserView> = {};
    const u = this.profile.users;
    for (let slot = u.firstSlot; slot < u.firstSlot + u.slots; slot++) {
      const view = this.user(slot);
      if (view) out[slot] = view;
    }
    return out;
  }

  get testModeActive(): boolean {
    return this.testEndsAt !== undefined && Date.now() < this.testEndsAt;
  }

  /* Serving. */

  accept(raw: ByteStream): void {
    this.stats.connections++;
    this.clients.add(raw);
    // An RTU character is 11 bits on the wire (start, 8 data, parity or a second stop, stop).
    const stream = pacedOutput(raw, this.options.paceBaud, this.mode === 'rtu' ? 11 : 10);
    const rtu = this.mode === 'rtu' ? new RtuDecoder('request') : undefined;
    const mbap = rtu ? undefined : new MbapDecoder();
    let idle: NodeJS.Timeout | undefined;
    const take = (frames: Array<{ unit: number; pdu: Buffer; transactionId?: number }>) => {
      for (const frame of frames) this.queue = this.queue.then(() => this.serve(stream, frame.unit, frame.pdu, frame.transactionId)).catch(() => undefined);
    };
    const countBad = (before: number) => (this.stats.badFrames += (rtu?.badCrc ?? 0) - before);
    stream.onData((chunk) => {
      this.stats.bytesIn += chunk.length;
      const before = rtu?.badCrc ?? 0;
      take(rtu ? rtu.push(chunk) : mbap!.push(chunk));
      countBad(before);
      clearTimeout(idle);
      if ((rtu ?? mbap)!.held > 0) {
        idle = setTimeout(() => {
          const again = rtu?.badCrc ?? 0;
          take(rtu ? rtu.idle() : mbap!.idle());
          countBad(again);
        }, RTU_IDLE_MS);
      }
    });
    stream.onClose(() => {
      clearTimeout(idle);
      this.clients.delete(raw);
    });
  }

  private async serve(stream: ByteStream, unit: number, pdu: Buffer, transactionId?: number): Promise<void> {
    this.stats.requests++;
    const broadcast = unit === 0 && this.mode === 'rtu';
    const ours = unit === this.unit || broadcast || (this.mode === 'tcp' && (unit === 0 || unit === 0xff));
    let answer: Answer;
    if (!ours) {
      if (this.mode === 'rtu') {
        this.stats.ignored++; // on a serial line, another unit's request is not for us: silence
        return;
      }
      answer = exceptionResponse(pdu[0], 11); // as a TCP gateway: no device answers as that unit
    } else {
      answer = this.injectedException(pdu[0]) ?? this.execute(pdu);
    }
    if (answer && answer[0] & 0x80) this.stats.exceptions++;
    if (broadcast || !answer) return; // broadcasts are carried out and never answered
    if (this.link.dropThisReply()) return;
    await this.link.delay();
    let replyUnit = unit;
    if (this.faults.wrongUnitReplies > 0) {
      this.faults.wrongUnitReplies--;
      replyUnit = (unit % 247) + 1;
    }
    const bytes = transactionId === undefined ? encodeRtu(replyUnit, answer) : encodeMbap(transactionId, replyUnit, answer);
    if (stream.closed) return;
    this.stats.bytesOut += bytes.length;
    await stream.write(bytes).catch(() => undefined);
  }

  private injectedException(fc: number): Answer {
    const f = this.faults;
    if (!f.exceptionCode || f.exceptionCount <= 0) return undefined;
    if (f.exceptionOn !== 'any' && (f.exceptionOn === 'write') !== isWrite(fc)) return undefined;
    f.exceptionCount--;
    return exceptionResponse(fc, f.exceptionCode);
  }

  /** The device's answer to one request PDU (also used directly by tests). */
  execute(pdu: Buffer): Buffer {
    const parsed = parseRequest(pdu);
    if ('exception' in parsed) return exceptionResponse(pdu[0], parsed.exception);
    const request = parsed.request;
    this.stats.functions[request.fc] = (this.stats.functions[request.fc] ?? 0) + 1;
    const result = this.perform(request);
    if (typeof result === 'number') return exceptionResponse(request.fc, result);
    if (isWrite(request.fc)) {
      this.stats.writes++;
      const count = request.fc === 16 ? request.values.length : request.fc === 15 ? request.bits.length : 1;
      this.stats.writeLog.push({ fc: request.fc, address: request.address, count });
      if (this.stats.writeLog.length > 200) this.stats.writeLog.shift();
      this.save();
    }
    return result;
  }

  private perform(r: Request): Buffer | number {
    const p = this.profile;
    const holding = p.device.holdingRegisters;
    const coils = p.device.coils;
    const inHolding = (address: number, count: number) => address >= holding.from && address + count - 1 <= holding.to;
    const inCoils = (address: number, count: number) => coils !== undefined && address >= coils.from && address + count - 1 <= coils.to;
    switch (r.fc) {
      case 3: {
        if (r.quantity > p.limits.maxReadRegisters) return 3;
        if (!inHolding(r.address, r.quantity)) return 2;
        return registersResponse(
          3,
          Array.from({ length: r.quantity }, (_, i) => this.readRegister(r.address + i)),
        );
      }
      case 1: {
        if (!inCoils(r.address, r.quantity)) return 2;
        return bitsResponse(
          1,
          Array.from({ length: r.quantity }, (_, i) => this.readCoil(r.address + i)),
        );
      }
      case 5:
      case 15: {
        const bits = r.fc === 5 ? [r.on] : r.bits;
        if (!inCoils(r.address, bits.length)) return 2;
        for (let i = 0; i < bits.length; i++) {
          const failed = this.writeCoil(r.address + i, bits[i]);
          if (failed) return failed;
        }
        return writeResponse(r);
      }
      case 6:
      case 16: {
        const values = r.fc === 6 ? [r.value] : r.values;
        if (r.fc === 16 && !p.limits.writeMultiple) return 1; // a device without function 16
        if (values.length > p.limits.maxWriteRegisters) return 3;
        if (!inHolding(r.address, values.length)) return 2;
        const failed = this.writeRegisters(r.address, values);
        return failed ?? writeResponse(r);
      }
    }
  }

  /* Registers and coils with a meaning beyond storage. */

  private readRegister(address: number): number {
    const t = this.profile.testMode;
    if (t) {
      if ('register' in t.status && address === t.status.register) return this.testModeActive ? (t.status.active ?? 1) : 0;
      if ('register' in t.control && address === t.control.register) return this.testModeActive ? t.control.on : t.control.off;
      const rem = t.remaining;
      if (rem && address >= rem.address && address < rem.address + rem.registers) {
        const left = this.testModeActive ? Math.ceil((this.testEndsAt! - Date.now()) / (rem.unit === 'seconds' ? 1000 : 60_000)) : 0;
        return writeNumber(left, rem.registers, this.profile.wordOrder)[address - rem.address];
      }
    }
    if (this.profile.apply && address === this.profile.apply.address) return 0;
    return this.holding[address];
  }

  private readCoil(address: number): boolean {
    const t = this.profile.testMode;
    if (t && (('coil' in t.status && address === t.status.coil) || ('coil' in t.control && address === t.control.coil))) return this.testModeActive;
    return this.coils[address] === 1;
  }

  private writeCoil(address: number, on: boolean): number | undefined {
    const t = this.profile.testMode;
    if (!t || !('coil' in t.control) || address !== t.control.coil) return 2; // read-only or unused
    if (on) return this.startTest();
    this.stopTest();
    return undefined;
  }

  /** Which registers a client may write; everything else (identification, status) is read-only. */
  private writable(address: number): 'table' | 'duration' | 'apply' | 'control' | undefined {
    if (address >= this.tableFrom && address <= this.tableTo) return 'table';
    const t = this.profile.testMode;
    if (t && address >= t.duration.address && address < t.duration.address + t.duration.registers) return 'duration';
    if (t && 'register' in t.control && address === t.control.register) return 'control';
    if (this.profile.apply && address === this.profile.apply.address) return 'apply';
    return undefined;
  }

  private writeRegisters(address: number, values: number[]): number | undefined {
    const kinds = values.map((_, i) => this.writable(address + i));
    if (kinds.some((k) => k === undefined)) return 2;
    // All or nothing: check every part before changing anything.
    const t = this.profile.testMode;
    const apply = this.profile.apply;
    for (let i = 0; i < values.length; i++) {
      if (kinds[i] === 'apply' && values[i] !== apply!.value) return 3;
      if (kinds[i] === 'control' && t && 'register' in t.control && values[i] !== t.control.on && values[i] !== t.control.off) return 3;
    }
    const tableWrites = values.map((v, i) => [address + i, v] as const).filter((_, i) => kinds[i] === 'table');
    if (tableWrites.length) {
      const view = (apply && this.staged ? this.staged : this.holding).slice(); // a refused write must leave no trace
      for (const [a, v] of tableWrites) view[a] = v;
      const failed = this.checkTable(
        view,
        tableWrites.map(([a]) => a),
      );
      if (failed) return failed;
      if (apply) this.staged = view;
      else this.holding.set(view.subarray(this.tableFrom, this.tableTo + 1), this.tableFrom);
    }
    for (let i = 0; i < values.length; i++) {
      if (kinds[i] === 'duration') this.holding[address + i] = values[i];
    }
    for (let i = 0; i < values.length; i++) {
      if (kinds[i] === 'apply' && this.staged) {
        this.holding.set(this.staged.subarray(this.tableFrom, this.tableTo + 1), this.tableFrom);
        this.staged = undefined;
      }
      if (kinds[i] === 'control' && t && 'register' in t.control) {
        if (values[i] === t.control.on) {
          const failed = this.startTest();
          if (failed) return failed;
        } else {
          this.stopTest();
        }
      }
    }
    return undefined;
  }

  /**
   * The checks a device makes on its user table after a write: a present user's code must be
   * well formed for the encoding and not another present user's, its type known, its name
   * printable, its partitions ones the device has. The codeSet flag is the device's to keep.
   */
  private checkTable(view: Uint16Array, touched: number[]): number | undefined {
    const p = this.profile;
    const u = p.users;
    const slots = new Set(touched.map((a) => slotAt(u, a)!.slot));
    const codeOf = (slot: number) => {
      const base = slotAddress(u, slot) + u.code.offset;
      return decodeCode(view.subarray(base, base + u.code.registers), u.code, p.wordOrder);
    };
    for (const slot of slots) {
      const base = slotAddress(u, slot);
      const record = decodeSlot((offset) => view[base + offset], p);
      const code = codeOf(slot);
      if (u.flags.codeSet !== undefined) {
        const flags = view[base + u.flags.offset];
        view[base + u.flags.offset] = code.kind === 'code' ? flags | (1 << u.flags.codeSet) : flags & ~(1 << u.flags.codeSet);
      }
      if (!record.present) continue; // a slot being filled in (or emptied) in several writes
      if (code.kind === 'invalid') return 3;
      if (u.type && record.type === undefined) return 3;
      if (u.partitions && record.partitions!.some((n) => n > u.partitions!.count)) return 3;
      const nameRegs = Array.from(view.subarray(base + u.name.offset, base + u.name.offset + u.name.registers));
      const raw = Buffer.from(nameRegs.flatMap((v) => (u.name.byteOrder === 'high-first' ? [v >> 8, v & 0xff] : [v & 0xff, v >> 8])))
        .toString('latin1')
        .replace(/\0+$/, '');
      if (!isPrintableAscii(raw)) return 3;
      if (code.kind === 'code') {
        for (let other = u.firstSlot; other < u.firstSlot + u.slots; other++) {
          if (other === slot) continue;
          const otherBase = slotAddress(u, other);
          if (!decodeSlot((offset) => view[otherBase + offset], p).present) continue;
          const theirs = codeOf(other);
          if (theirs.kind === 'code' && theirs.digits === code.digits) return 3; // a code belongs to one user
        }
      }
    }
    return undefined;
  }

  /* Test mode: runs for the duration written before it starts, then ends by itself. */

  private startTest(): number | undefined {
    const t = this.profile.testMode!;
    const amount = readNumber(
      this.holding.subarray(t.duration.address, t.duration.address + t.duration.registers),
      t.duration.registers,
      this.profile.wordOrder,
    );
    if (amount === 0) return 3;
    this.runTest(Date.now() + amount * (t.duration.unit === 'seconds' ? 1000 : 60_000));
    return undefined;
  }

  private runTest(endsAt: number): void {
    clearTimeout(this.testTimer);
    this.testEndsAt = endsAt;
    this.options.log?.(`test mode on until ${new Date(endsAt).toISOString()}`);
    this.testTimer = setTimeout(() => this.stopTest(), Math.max(0, endsAt - Date.now()));
    this.testTimer.unref();
  }

  private stopTest(): void {
    clearTimeout(this.testTimer);
    if (this.testEndsAt !== undefined) this.options.log?.('test mode off');
    this.testEndsAt = undefined;
    this.save();
  }

  /* Memory: identification, seeding, saving. */

  private writeIdentification(): void {
    const id = this.profile.identification;
    const order = this.profile.wordOrder;
    const put = (address: number, values: number[]) => values.forEach((v, i) => (this.holding[address + i] = v));
    const model = id.model.expect ?? this.profile.model;
    put(id.model.address, encodeName(model, { offset: 0, registers: id.model.registers, encoding: 'ascii', byteOrder: 'high-first' }));
    const fill = (field: (typeof id)['firmware'], text: string, number: number) => {
      if (!field) return;
      if (field.encoding === 'ascii')
        put(field.address, encodeName(text, { offset: 0, registers: field.registers, encoding: 'ascii', byteOrder: 'high-first' }));
      else if (field.encoding === 'version') put(field.address, [1, 4, 2, 0].slice(0, field.registers));
      else if (field.encoding === 'uint16') put(field.address, [number & 0xffff]);
      else put(field.address, fromU32(number, order));
    };
    fill(id.firmware, '1.4.2', 104);
    fill(id.serial, 'SIM100042', 100042);
  }

  /** A fresh device: every slot empty (blank code), and N users when asked. */
  private seed(count: number): void {
    const p = this.profile;
    const u = p.users;
    for (let slot = u.firstSlot; slot < u.firstSlot + u.slots; slot++) {
      this.holding.set(blankCode(u.code, p.wordOrder), slotAddress(u, slot) + u.code.offset);
    }
    const length = Math.min(Math.max(6, u.code.minLength), u.code.maxLength);
    for (let n = 1; n <= Math.min(count, u.slots); n++) {
      const slot = u.firstSlot + n - 1;
      const base = slotAddress(u, slot);
      // 3571 is prime, so these are distinct for every n below 10^length.
      const code = String((200000 + n * 3571) % 10 ** length).padStart(length, '0');
      let flags = 1 << u.flags.present;
      if (u.flags.enabled !== undefined) flags |= 1 << u.flags.enabled;
      if (u.flags.codeSet !== undefined) flags |= 1 << u.flags.codeSet;
      this.holding[base + u.flags.offset] = flags;
      this.holding.set(encodeCode(code, u.code, p.wordOrder), base + u.code.offset);
      this.holding.set(encodeName(n <= FIRST_NAMES.length ? FIRST_NAMES[n - 1] : `User ${n}`, u.name), base + u.name.offset);
      if (u.type) this.holding[base + u.type.offset] = u.type.values[defaultType(p)!];
      if (u.partitions) this.holding.set(encodePartitions(n % 3 === 0 ? [1, 2] : [1], u.partitions.registers, p.wordOrder), base + u.partitions.offset);
    }
  }

  private load(): boolean {
    // Another device's memory (another format or profile) is not loaded: the device starts fresh.
    const saved = loadState<SavedState | undefined>(
      this.options.statePath,
      () => undefined,
      (s) => (s as SavedState).format === 'panelctl-modbus-sim/1' && (s as SavedState).profile === this.loaded.name,
    );
    if (!saved) return false;
    for (const [address, value] of Object.entries(saved.holding)) this.holding[Number(address)] = value;
    for (const address of saved.coils) this.coils[address] = 1;
    if (saved.testModeEndsAt && Date.parse(saved.testModeEndsAt) > Date.now()) this.runTest(Date.parse(saved.testModeEndsAt));
    return true;
  }

  private save(): void {
    const file = this.options.statePath;
    if (!file) return;
    const holding: Record<string, number> = {};
    this.holding.forEach((value, address) => {
      if (value) holding[address] = value;
    });
    const coils: number[] = [];
    this.coils.forEach((value, address) => value && coils.push(address));
    const state: SavedState = {
      format: 'panelctl-modbus-sim/1',
      profile: this.loaded.name,
      holding,
      coils,
      ...(this.testModeActive ? { testModeEndsAt: new Date(this.testEndsAt!).toISOString() } : {}),
      users: this.users(),
    };
    saveState(file, state, 1);
  }

  async close(): Promise<void> {
    clearTimeout(this.testTimer);
    for (const client of this.clients) await client.close().catch(() => undefined);
    this.save();
  }
}

export async function createSimulator(options: SimulatorOptions): Promise<ModbusSimulator> {
  const loaded = await loadProfile(options.options?.profile ?? 'demo-modbus', 'options.profile');
  return new ModbusSimulator(loaded, options);
}

/** The `--set` names createSimulator reads (`panelctl sim` refuses others). */
export const simulatorOptions: readonly string[] = [
  'profile',
  'unit',
  'mode',
  'latencyMs',
  'dropReplies',
  'exceptionCode',
  'exceptionCount',
  'exceptionOn',
  'wrongUnitReplies',
];
