import { createRequire } from 'node:module';
import type Iconv from 'iconv-lite';

// iconv-lite and its code tables take 10-25 ms to load, a large part of a short INTEGRA command;
// ASCII names (most of them) are the same bytes in Windows-1250 and need no code table at all.
// The require() is made on first use too: in the bundle, node:module then loads on first use (scripts/build.mjs).
let iconv: typeof Iconv | undefined;
const win1250 = () => (iconv ??= createRequire(import.meta.url)('iconv-lite') as typeof Iconv);
const isAscii = (bytes: Uint8Array) => bytes.every((b) => b < 0x80);

/**
 * The data layouts of the user-management commands (pages 13-15) and the identification
 * commands (page 4). Pure functions; the driver and the simulator share them.
 */

export const Cmd = {
  zonesViolation: 0x00,
  outputsState: 0x17,
  rtcStatus: 0x1a,
  moduleVersion: 0x7c,
  integraVersion: 0x7e,
  newData: 0x7f,
  readSelf: 0xe0,
  readUser: 0xe1,
  readUserList: 0xe2,
  removeUser: 0xe5,
  createUser: 0xe6,
  changeUser: 0xe7,
  result: 0xef,
} as const;

/** Page 13: the user types of the TTTT field. */
export const USER_TYPES = [
  'normal',
  'single',
  'time-renewable',
  'time-not-renewable',
  'duress',
  'mono-outputs',
  'bi-outputs',
  'partition-blocking',
  'cash-machine',
  'guard',
  'schedule',
] as const;

export const FIRST_MASTER = 241;
export const LAST_MASTER = 248;
export const SERVICE = 255;

/** Page 13: the three rights bytes; the bits the tool cares about. */
export const Rights = {
  arming: [0, 0x01],
  disarming: [0, 0x02],
  clearOwnPartitions: [0, 0x04],
  codeChanging: [0, 0x40],
  usersEditing: [0, 0x80],
  guardx: [2, 0x04],
} as const;

export function hasRight(rights: Uint8Array | number[], right: readonly [number, number]): boolean {
  return (rights[right[0]] & right[1]) !== 0;
}

/** A new normal user: arm, disarm, clear alarms in own partitions, change own code. */
export const DEFAULT_RIGHTS = [0x47, 0x00, 0x00];

/** Bit n-1 set for each number n (partitions 1..32 in 4 bytes, users 1..240 in 30). */
export function encodeBitmap(numbers: number[], size: number): Buffer {
  const out = Buffer.alloc(size);
  for (const n of numbers) if (n >= 1 && n <= size * 8) out[(n - 1) >> 3] |= 1 << ((n - 1) & 7);
  return out;
}

export function decodeBitmap(bytes: Uint8Array): number[] {
  const numbers: number[] = [];
  bytes.forEach((b, i) => {
    for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) numbers.push(i * 8 + bit + 1);
  });
  return numbers;
}

/** Names are 16 bytes of Windows-1250 (Polish panels), space padded. */
export function encodeName(name: string): Buffer {
  const bytes = /^[\x00-\x7f]*$/.test(name) ? Buffer.from(name, 'latin1') : win1250().encode(name, 'win1250');
  const out = Buffer.alloc(16, 0x20);
  bytes.copy(out, 0, 0, 16);
  return out;
}

export function decodeName(bytes: Uint8Array): string {
  const text = isAscii(bytes) ? Buffer.from(bytes).toString('latin1') : win1250().decode(Buffer.from(bytes), 'win1250');
  return text.replace(/[\s\0]+$/, '');
}

/** What 0xE1 returns (page 14), after the command byte. */
export interface UserRecord {
  number: number;
  partitions: number[];
  typeByte: number; // XYIpTTTT
  time: number;
  tempTime: number;
  rights: number[];
  name: string;
  flags: number; // .7 simple, .6 master, .210 object
}

const USER_RECORD_LENGTH = 28;

export function encodeUserRecord(user: UserRecord): Buffer {
  return Buffer.concat([
    Buffer.from([user.number]),
    encodeBitmap(user.partitions, 4),
    Buffer.from([user.typeByte, user.time, user.tempTime, ...user.rights]),
    encodeName(user.name),
    Buffer.from([user.flags]),
  ]);
}

export function decodeUserRecord(data: Uint8Array): UserRecord {
  return {
    number: data[0],
    partitions: decodeBitmap(data.subarray(1, 5)),
    typeByte: data[5],
    time: data[6],
    tempTime: data[7],
    rights: [...data.subarray(8, 11)],
    name: decodeName(data.subarray(11, 27)),
    flags: data[27],
  };
}

export function typeName(typeByte: number): string {
  return USER_TYPES[typeByte & 0x0f] ?? `type-${typeByte & 0x0f}`;
}

export function typeNumber(name: string | undefined): number | undefined {
  if (name === undefined) return 0;
  const index = USER_TYPES.indexOf(name as (typeof USER_TYPES)[number]);
  if (index >= 0) return index;
  return /^\d+$/.test(name) && Number(name) <= 10 ? Number(name) : undefined;
}

/** What 0xE0 returns (page 13), after the command byte: like 0xE1 but with a telephone-code field. */
export interface SelfInfo {
  number: number;
  /** For the service user: which masters exist (bit 0 = master 241). */
  mastersBitmap: number;
  partitions: number[];
  typeByte: number;
  rights: number[];
  name: string;
}

export function decodeSelfInfo(data: Uint8Array): SelfInfo {
  return {
    number: data[0],
    mastersBitmap: data[0] === SERVICE ? data[1] : 0,
    partitions: decodeBitmap(data.subarray(3, 7)),
    typeByte: data[7],
    rights: [...data.subarray(9, 12)],
    name: decodeName(data.subarray(12, 28)),
  };
}

/** The fields of 0xE6 create / 0xE7 change after the requester's code (page 15). */
export interface UserWrite {
  number: number;
  code: Buffer; // 4 bytes BCD, or FF FF FF FF for "no change" (0xE7)
  phone: Buffer; // 2 bytes BCD, or FF FF for none / no change
  partitions: number[];
  rightsAndType: number; // .7 simple .6 master .5 zones isolating .3210 type
  time: number;
  tempTime: number;
  rights: number[];
  name: string;
  object?: number; // 0xE6 only
}

export function encodeUserWrite(write: UserWrite): Buffer {
  return Buffer.concat([
    Buffer.from([write.number]),
    write.code,
    write.phone,
    encodeBitmap(write.partitions, 4),
    Buffer.from([write.rightsAndType, write.time, write.tempTime, ...write.rights]),
    encodeName(write.name),
    write.object === undefined ? Buffer.alloc(0) : Buffer.from([write.object]),
  ]);
}

export function decodeUserWrite(data: Uint8Array, withObject: boolean): UserWrite {
  return {
    number: data[0],
    code: Buffer.from(data.subarray(1, 5)),
    phone: Buffer.from(data.subarray(5, 7)),
    partitions: decodeBitmap(data.subarray(7, 11)),
    rightsAndType: data[11],
    time: data[12],
    tempTime: data[13],
    rights: [...data.subarray(14, 17)],
    name: decodeName(data.subarray(17, 33)),
    object: withObject ? data[33] : undefined,
  };
}

/**
 * How many data bytes (after the command byte) each answer the driver asks for carries: 0x7C
 * "0x7C + 12 bytes" and 0x7E "0x7E + 14 bytes" (page 4), 0xE0 30 bytes and 0xE1 29 bytes with the
 * command byte (pages 13-14), 0xE2 62 (page 14), 0xEF one result byte (page 19). An answer of any
 * other length is not the answer to the question asked.
 */
export const ANSWER_LENGTH: Readonly<Record<number, number>> = {
  [Cmd.moduleVersion]: 12,
  [Cmd.integraVersion]: 14,
  [Cmd.readSelf]: 29,
  [Cmd.readUser]: USER_RECORD_LENGTH,
  [Cmd.readUserList]: 61,
  [Cmd.result]: 1,
};

/**
 * Why `frame` is not the answer to command `cmd` with `data`, or undefined if it is one: our own
 * request echoed, or a length the spec's layout for that answer does not have (pages 4, 13-14, 19).
 */
export function answerProblem(cmd: number, data: Uint8Array, frame: { cmd: number; data: Uint8Array }): 'echo' | string | undefined {
  if (frame.cmd === cmd && Buffer.compare(Buffer.from(frame.data), Buffer.from(data)) === 0) return 'echo';
  const expected = ANSWER_LENGTH[frame.cmd];
  if (expected !== undefined && frame.data.length !== expected) {
    return `the answer to 0x${hex2(cmd)} had ${frame.data.length} data bytes where the spec's 0x${hex2(frame.cmd)} layout has ${expected}`;
  }
  return undefined;
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0').toUpperCase();
}

/** Page 19: the 0xEF result codes. */
export const RESULT_TEXT: Record<number, string> = {
  0: 'ok',
  1: 'requesting user code not found',
  2: 'no access',
  3: 'selected user does not exist',
  4: 'selected user already exists',
  5: 'wrong code or code already exists',
  6: 'telephone code already exists',
  7: 'changed code is the same',
  8: 'other error',
  17: 'can not arm, but can use force arm',
  18: 'can not arm',
  255: 'command accepted, will be processed',
};

/** Page 4: the INTEGRA type byte of 0x7E. */
export const MODELS: Record<number, string> = {
  0: 'INTEGRA 24',
  1: 'INTEGRA 32',
  2: 'INTEGRA 64',
  3: 'INTEGRA 128',
  4: 'INTEGRA 128-WRL SIM300',
  132: 'INTEGRA 128-WRL LEON',
  66: 'INTEGRA 64 Plus',
  67: 'INTEGRA 128 Plus',
  72: 'INTEGRA 256 Plus',
};

/** '12320120527' -> '1.23 2012-05-27' (pages 4 and 5). */
export function formatVersion(ascii: string): string {
  if (!/^\d{11}$/.test(ascii)) return ascii.trim();
  return `${ascii[0]}.${ascii.slice(1, 3)} ${ascii.slice(3, 7)}-${ascii.slice(7, 9)}-${ascii.slice(9, 11)}`;
}
