import type { PanelSimulator, SimulatorOptions } from '../../src/driver-kit/index.js';
import type { ByteStream } from '../../src/driver-kit/index.js';
import { FaultKnobs, OneClient, listenTcp, loadState, pacedOutput, saveState, simNumber } from '../../src/driver-kit/index.js';
import { decodeDigits, decodePhoneCode, encodePhoneCode } from './bcd.js';
import { crc, IntegraDecoder, wrapFrame } from './codec.js';
import { encryptedLink } from './encryption.js';
import { Cmd, FIRST_MASTER, LAST_MASTER, Rights, SERVICE, decodeUserWrite, encodeBitmap, encodeName, encodeUserRecord, hasRight } from './messages.js';

/**
 * A model of an INTEGRA 128 behind an ETHM-1 Plus: users with names, types, partitions, rights
 * and codes; the rules the panel applies to the user-management commands; the read commands
 * integration clients poll on connect; one client at a time. Not an echo: it refuses what the
 * panel would refuse, with the panel's result codes.
 */

export interface SimUser {
  number: number;
  name: string;
  code: string;
  phone?: string;
  type: number; // 0..10 (page 13)
  partitions: number[];
  rights: number[]; // 3 bytes
  zonesIsolating: boolean;
  simple: boolean;
  time: number;
  tempTime: number;
}

export interface IntegraState {
  serviceCode: string;
  users: Record<number, SimUser>;
}

export interface IntegraFaults {
  /** Delay every answer by this many ms. */
  latencyMs: number;
  /** Swallow the next N answers (the frames are still processed: a write still happens). */
  dropReplies: number;
  /** Send the next N answers with a wrong CRC. */
  corruptCrc: number;
  /** Reset the connection when the Nth frame from now arrives (then the fault clears). */
  resetAfterFrames: number;
}

const ALL_RIGHTS = [0xff, 0xff, 0xff];
const ALL_PARTITIONS = Array.from({ length: 32 }, (_, i) => i + 1);

export function defaultState(seedUsers = 0): IntegraState {
  const users: Record<number, SimUser> = {
    [FIRST_MASTER]: {
      number: FIRST_MASTER,
      name: 'Master',
      code: '1111', // the factory master code of an INTEGRA
      type: 0,
      partitions: ALL_PARTITIONS,
      rights: ALL_RIGHTS,
      zonesIsolating: true,
      simple: false,
      time: 0,
      tempTime: 0,
    },
  };
  const firstNames = ['Anna', 'Lars', 'Ingrid', 'Piotr', 'Marta', 'Jonas', 'Olga', 'Erik', 'Zofia', 'Nils', 'Kari', 'Tomasz'];
  for (let n = 1; n <= Math.min(seedUsers, 240); n++) {
    users[n] = {
      number: n,
      name: n <= firstNames.length ? firstNames[n - 1] : `User ${n}`,
      code: String(200000 + n * 3571), // distinct, deterministic, six digits
      type: 0,
      partitions: n % 3 === 0 ? [1, 2] : [1],
      rights: [0x03, 0x00, 0x00], // arm and disarm only
      zonesIsolating: false,
      simple: false,
      time: 0,
      tempTime: 0,
    };
  }
  return { serviceCode: '12345', users };
}

export class IntegraSimulator implements PanelSimulator {
  readonly state: IntegraState;
  readonly stats = { framesIn: 0, writes: 0, badCrc: 0, connections: 0, refusedClients: 0 };
  private readonly faults = new FaultKnobs();
  // An ETHM-1 serves one client; a second one gets this text and is disconnected.
  private readonly line = new OneClient({
    serve: (raw) => this.serveClient(raw),
    busy: (raw) => {
      this.stats.refusedClients++;
      void raw
        .write(Buffer.from('Busy!\r\n'))
        .catch(() => undefined)
        .finally(() => raw.close());
    },
  });

  constructor(private readonly options: SimulatorOptions) {
    this.state = loadState(options.statePath, () => defaultState(options.users ?? 0));
    this.setFaults({
      latencyMs: simNumber(options, 'latencyMs'),
      dropReplies: simNumber(options, 'dropReplies'),
      corruptCrc: simNumber(options, 'corruptCrc'),
      resetAfterFrames: simNumber(options, 'resetAfterFrames'),
    });
    this.save();
  }

  setFaults(faults: Partial<IntegraFaults>): void {
    const { corruptCrc, ...common } = faults;
    this.faults.set({ ...common, corruptReplies: corruptCrc });
  }

  demoSecrets(): Record<string, string> {
    const key = this.options.options?.integrationKey;
    return { code: this.state.users[FIRST_MASTER]?.code ?? this.state.serviceCode, ...(typeof key === 'string' && key ? { integrationKey: key } : {}) };
  }

  /** Serves it on TCP, for tests and the CLI. */
  listenTcp(host = '127.0.0.1', port = 0) {
    return listenTcp(this, host, port);
  }

  accept(raw: ByteStream): void {
    this.line.offer(raw);
  }

  private serveClient(raw: ByteStream): void {
    this.stats.connections++;
    const key = this.options.options?.integrationKey;
    const line = pacedOutput(raw, this.options.paceBaud);
    // An ETHM-1 Plus with an integration key set speaks only the encrypted variant.
    const stream = typeof key === 'string' && key ? encryptedLink(line, key, 'module') : line;
    const decoder = new IntegraDecoder();
    let queue = Promise.resolve();
    stream.onData((chunk) => {
      const before = decoder.badCrc;
      const frames = decoder.push(chunk);
      this.stats.badCrc += decoder.badCrc - before;
      for (const frame of frames) {
        if (frame.kind !== 'frame') continue;
        queue = queue.then(() => this.serve(stream, raw, frame.cmd, frame.data));
      }
    });
  }

  private async serve(stream: ByteStream, raw: ByteStream, cmd: number, data: Buffer): Promise<void> {
    this.stats.framesIn++;
    if (this.faults.resetOnThisFrame()) {
      await raw.close();
      return;
    }
    const answer = this.answer(cmd, data);
    if (!answer) return; // unknown command or bad length: no answer (page 2)
    if (this.faults.dropThisReply()) return;
    await this.faults.delay();
    let sum = crc(answer);
    // Spoiled before stuffing, so the frame stays well-formed and only its CRC is wrong.
    if (this.faults.corruptThisReply()) sum ^= 0x5a5a;
    const frame = wrapFrame([...answer, sum >>> 8, sum & 0xff]);
    if (!stream.closed) await stream.write(frame).catch(() => undefined);
  }

  /** The panel's reply to one frame, or undefined for no reply. */
  answer(cmd: number, data: Buffer): Buffer | undefined {
    // Page 4: the state commands 0x00..0x2F may carry one extra byte (INT-RS v2); the 16/32-byte
    // ones then answer for 256 zones/outputs. Any other length is "not suitable": no answer (page 2).
    if (cmd <= 0x2f && data.length > 1) return undefined;
    if (cmd <= 0x08 || cmd === Cmd.outputsState) return Buffer.concat([Buffer.from([cmd]), Buffer.alloc(data.length ? 32 : 16)]);
    if (cmd >= 0x09 && cmd <= 0x16) return Buffer.concat([Buffer.from([cmd]), Buffer.alloc(4)]);
    switch (cmd) {
      case Cmd.rtcStatus:
        return Buffer.concat([Buffer.from([cmd]), this.rtc()]);
      case Cmd.integraVersion:
        return data.length ? undefined : Buffer.concat([Buffer.from([cmd, 3]), Buffer.from('12120181011', 'latin1'), Buffer.from([1, 0xff])]);
      case Cmd.moduleVersion:
        return data.length ? undefined : Buffer.concat([Buffer.from([cmd]), Buffer.from('20520180111', 'latin1'), Buffer.from([0x03])]);
      case Cmd.newData:
        // Pages 5-6: 5 bytes, 6 with one extra byte, 7 with two. (The 12/14-byte auto-send form is not modelled.)
        return data.length > 2 ? undefined : Buffer.concat([Buffer.from([cmd]), Buffer.alloc(5 + data.length)]);
    }
    if (cmd >= Cmd.readSelf && cmd <= Cmd.changeUser) return this.userCommand(cmd, data);
    return undefined;
  }

  private rtc(): Buffer {
    const now = new Date();
    const bcd = (n: number) => ((Math.floor(n / 10) % 10) << 4) | (n % 10);
    const year = now.getFullYear();
    return Buffer.from([
      bcd(Math.floor(year / 100)),
      bcd(year % 100),
      bcd(now.getMonth() + 1),
      bcd(now.getDate()),
      bcd(now.getHours()),
      bcd(now.getMinutes()),
      bcd(now.getSeconds()),
      (now.getDay() + 6) % 7,
      3,
    ]);
  }

  private result(code: number): Buffer {
    return Buffer.from([Cmd.result, code]);
  }

  /** Splits the requester's 4- or 8-byte code off the front, knowing each command's fixed tail. */
  private splitCode(cmd: number, data: Buffer): { code: string; rest: Buffer } | undefined {
    // 0xE3/0xE4 (user locks) are not modelled: like any unknown command they get no answer.
    const tail = { [Cmd.readSelf]: 0, [Cmd.readUser]: 1, [Cmd.readUserList]: 1, [Cmd.removeUser]: 1, [Cmd.createUser]: 34, [Cmd.changeUser]: 33 }[cmd];
    if (tail === undefined) return undefined;
    const codeLength = data.length - tail;
    if (codeLength !== 4 && codeLength !== 8) return undefined;
    return { code: decodeDigits(data.subarray(0, codeLength)), rest: data.subarray(codeLength) };
  }

  /** With code prefixes on, a requester must send prefix + code (the 8-byte form); see README. */
  private findByCode(sent: string): SimUser | 'service' | undefined {
    const prefix = String(this.options.options?.prefix ?? '');
    if (sent === prefix + this.state.serviceCode) return 'service';
    return Object.values(this.state.users).find((u) => sent === prefix + u.code);
  }

  /** Who may edit whom (see README): service all; masters every user; others users in their partitions. */
  private mayEdit(requester: SimUser | 'service', target: number, targetUser?: SimUser): boolean {
    if (requester === 'service') return true;
    if (!hasRight(requester.rights, Rights.usersEditing)) return false;
    if (target >= FIRST_MASTER) return false;
    if (requester.number >= FIRST_MASTER) return true;
    const partitions = targetUser?.partitions ?? [];
    return partitions.every((p) => requester.partitions.includes(p));
  }

  private codeTaken(code: string, except?: number): boolean {
    if (code === this.state.serviceCode) return true;
    return Object.values(this.state.users).some((u) => u.number !== except && u.code === code);
  }

  private userCommand(cmd: number, data: Buffer): Buffer | undefined {
    const split = this.splitCode(cmd, data);
    if (!split) return undefined;
    const requester = this.findByCode(split.code);
    if (!requester) return this.result(0x01);
    const { rest } = split;

    if (cmd === Cmd.readSelf) {
      // 0xE0 answers only users with the GUARDX right (page 13).
      if (requester !== 'service' && !hasRight(requester.rights, Rights.guardx)) return this.result(0x01);
      return Buffer.concat([Buffer.from([cmd]), this.selfInfo(requester)]);
    }
    if (cmd === Cmd.readUserList) {
      // The lists as seen by the user numbered in the request (page 14): oneself, or a user one may edit.
      const owner = rest[0] === SERVICE ? 'service' : this.state.users[rest[0]];
      if (!owner) return this.result(0x03);
      if (owner !== requester && (owner === 'service' || !this.mayEdit(requester, rest[0], owner))) return this.result(0x02);
      const existing = Object.keys(this.state.users)
        .map(Number)
        .filter((n) => n <= 240);
      const editable = existing.filter((n) => this.mayEdit(owner, n, this.state.users[n]));
      return Buffer.concat([Buffer.from([cmd, rest[0]]), encodeBitmap(existing, 30), encodeBitmap(editable, 30)]);
    }
    const number = rest[0];
    const target = this.state.users[number];
    if (cmd === Cmd.readUser) {
      if (!target) return this.result(0x03);
      if (requester !== 'service' && requester.number !== number && !this.mayEdit(requester, number, target)) return this.result(0x02);
      return Buffer.concat([Buffer.from([cmd]), encodeUserRecord(this.record(target))]);
    }
    if (cmd === Cmd.removeUser) {
      if (!target) return this.result(0x03);
      if (!this.mayEdit(requester, number, target)) return this.result(0x02);
      delete this.state.users[number];
      return this.committed();
    }
    const write = decodeUserWrite(rest, cmd === Cmd.createUser);
    const newCode = decodeDigits(write.code);
    const phone = decodePhoneCode(write.phone);
    if (cmd === Cmd.createUser) {
      const slot = write.number === 0xff ? this.lowestFree() : write.number;
      if (slot === undefined || slot < 1 || slot > LAST_MASTER) return this.result(0x08);
      if (this.state.users[slot]) return this.result(0x04);
      const wanted = { partitions: write.partitions } as SimUser;
      if (!this.mayEdit(requester, slot, wanted)) return this.result(0x02);
      if (newCode.length < 4 || this.codeTaken(newCode)) return this.result(0x05);
      if (phone && Object.values(this.state.users).some((u) => u.phone === phone)) return this.result(0x06);
      this.state.users[slot] = this.fromWrite(slot, write, newCode, phone);
      return this.committed();
    }
    // 0xE7 change user
    if (!target) return this.result(0x03);
    if (!this.mayEdit(requester, number, target)) return this.result(0x02);
    if (write.code.equals(Buffer.from([0xff, 0xff, 0xff, 0xff])) === false) {
      if (newCode === target.code) return this.result(0x07);
      if (newCode.length < 4 || this.codeTaken(newCode, number)) return this.result(0x05);
    }
    if (phone && Object.values(this.state.users).some((u) => u.number !== number && u.phone === phone)) return this.result(0x06);
    this.state.users[number] = this.fromWrite(number, write, newCode || target.code, phone || target.phone);
    return this.committed();
  }

  private committed(): Buffer {
    this.stats.writes++;
    this.save();
    return this.result(0x00);
  }

  private lowestFree(): number | undefined {
    for (let n = 1; n <= 240; n++) if (!this.state.users[n]) return n;
    return undefined;
  }

  private fromWrite(number: number, write: ReturnType<typeof decodeUserWrite>, code: string, phone?: string): SimUser {
    return {
      number,
      name: write.name,
      code,
      phone: phone || undefined,
      type: write.rightsAndType & 0x0f,
      partitions: write.partitions,
      rights: write.rights,
      zonesIsolating: (write.rightsAndType & 0x20) !== 0,
      simple: (write.rightsAndType & 0x80) !== 0,
      time: write.time,
      tempTime: write.tempTime,
    };
  }

  private record(user: SimUser) {
    return {
      number: user.number,
      partitions: user.partitions,
      typeByte: (user.zonesIsolating ? 0x20 : 0) | user.type,
      time: user.time,
      tempTime: user.tempTime,
      rights: user.rights,
      name: user.name,
      flags: (user.simple ? 0x80 : 0) | (user.number >= FIRST_MASTER ? 0x40 : 0),
    };
  }

  private selfInfo(requester: SimUser | 'service'): Buffer {
    if (requester === 'service') {
      const masters = Object.keys(this.state.users)
        .map(Number)
        .filter((n) => n >= FIRST_MASTER)
        .map((n) => n - FIRST_MASTER + 1);
      return Buffer.concat([
        Buffer.from([SERVICE, encodeBitmap(masters, 1)[0], 0]),
        encodeBitmap(ALL_PARTITIONS, 4),
        Buffer.from([0, 0, ...ALL_RIGHTS]),
        encodeName('Service'),
        Buffer.from([0]),
      ]);
    }
    const record = this.record(requester);
    const phone = requester.number >= FIRST_MASTER ? Buffer.from([0, 0]) : encodePhoneCode(requester.phone);
    return Buffer.concat([
      Buffer.from([requester.number]),
      phone,
      encodeBitmap(requester.partitions, 4),
      Buffer.from([record.typeByte, requester.time, ...requester.rights]),
      encodeName(requester.name),
      Buffer.from([record.flags]),
    ]);
  }

  private save(): void {
    saveState(this.options.statePath, this.state);
  }

  async close(): Promise<void> {
    await this.line.client?.close();
    this.save();
  }
}

export async function createSimulator(options: SimulatorOptions): Promise<IntegraSimulator> {
  return new IntegraSimulator(options);
}

/** The `--set` names createSimulator reads (`panelctl sim` refuses others). */
export const simulatorOptions: readonly string[] = ['latencyMs', 'dropReplies', 'corruptCrc', 'resetAfterFrames', 'integrationKey', 'prefix'];
