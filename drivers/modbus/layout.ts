import type { Profile, UsersLayout } from './profile.js';

/**
 * Where things are in a profile's register map and how values are encoded in registers:
 * slot addresses, read planning, codes (BCD, ASCII digits, 32-bit integer), names, bitmasks.
 * Pure, and shared by the driver and the simulator so both read a profile the same way.
 */

export type WordOrder = Profile['wordOrder'];
type CodeSpec = UsersLayout['code'];
type NameSpec = UsersLayout['name'];

export function lastSlot(users: UsersLayout): number {
  return users.firstSlot + users.slots - 1;
}

export function hasSlot(users: UsersLayout, slot: number): boolean {
  return Number.isInteger(slot) && slot >= users.firstSlot && slot <= lastSlot(users);
}

/** First register of a slot's record. */
export function slotAddress(users: UsersLayout, slot: number): number {
  return users.base + (slot - users.firstSlot) * users.stride;
}

/** The slot a user-table register belongs to, and its offset in the record. */
export function slotAt(users: UsersLayout, address: number): { slot: number; offset: number } | undefined {
  const index = Math.floor((address - users.base) / users.stride);
  if (address < users.base || index >= users.slots) return undefined;
  return { slot: users.firstSlot + index, offset: (address - users.base) % users.stride };
}

/** Offsets (within a record) the driver reads to list a user: everything but the code, unless no codeSet bit says whether one is stored. */
export function listOffsets(users: UsersLayout): number[] {
  const offsets = new Set<number>([users.flags.offset]);
  const add = (offset: number, registers: number) => {
    for (let i = 0; i < registers; i++) offsets.add(offset + i);
  };
  add(users.name.offset, users.name.registers);
  if (users.type) offsets.add(users.type.offset);
  if (users.partitions) add(users.partitions.offset, users.partitions.registers);
  if (users.flags.codeSet === undefined) add(users.code.offset, users.code.registers); // (then code.readable is true: the profile insists)
  return [...offsets].sort((a, b) => a - b);
}

/** Offsets every field of a record covers, first to last (what a whole-record write spans). */
export function recordSpan(users: UsersLayout): { from: number; to: number } {
  const ends: Array<[number, number]> = [
    [users.flags.offset, 1],
    [users.code.offset, users.code.registers],
    [users.name.offset, users.name.registers],
    ...(users.type ? [[users.type.offset, 1] as [number, number]] : []),
    ...(users.partitions ? [[users.partitions.offset, users.partitions.registers] as [number, number]] : []),
  ];
  return { from: Math.min(...ends.map(([o]) => o)), to: Math.max(...ends.map(([o, n]) => o + n - 1)) };
}

export interface ReadBlock {
  address: number;
  count: number;
}

/**
 * The fewest read requests of at most `max` registers that cover every wanted address: start
 * a request at the first address not yet covered and stretch it as far as allowed (greedy,
 * which is optimal for covering points on a line with fixed-length intervals). Gaps inside a
 * request are read and ignored; each request is trimmed to the last address it needs.
 */
export function planReads(addresses: Iterable<number>, max: number): ReadBlock[] {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const blocks: ReadBlock[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i];
    let last = start;
    while (i < sorted.length && sorted[i] < start + max) last = sorted[i++];
    blocks.push({ address: start, count: last - start + 1 });
  }
  return blocks;
}

/** Splits a run of registers to write into requests of at most `max`. */
export function splitWrite(address: number, values: number[], max: number): Array<{ address: number; values: number[] }> {
  const parts = [];
  for (let i = 0; i < values.length; i += max) parts.push({ address: address + i, values: values.slice(i, i + max) });
  return parts;
}

/* 32-bit values over two registers. */

export function toU32(registers: ArrayLike<number>, order: WordOrder): number {
  const [a, b] = [registers[0] ?? 0, registers[1] ?? 0];
  return order === 'high-first' ? a * 0x10000 + b : b * 0x10000 + a;
}

export function fromU32(value: number, order: WordOrder): number[] {
  const high = Math.floor(value / 0x10000) & 0xffff;
  const low = value & 0xffff;
  return order === 'high-first' ? [high, low] : [low, high];
}

/** A 1- or 2-register unsigned value. */
export function readNumber(registers: ArrayLike<number>, count: 1 | 2, order: WordOrder): number {
  return count === 1 ? registers[0] : toU32(registers, order);
}

export function writeNumber(value: number, count: 1 | 2, order: WordOrder): number[] {
  return count === 1 ? [value & 0xffff] : fromU32(value, order);
}

/* Codes. A code is digits; these never log or return it except to the caller that asked. */

const BLANK_U32 = 0xffffffff;

/** The registers a blank (no code) slot holds in this encoding. */
export function blankCode(spec: CodeSpec, order: WordOrder): number[] {
  if (spec.encoding === 'bcd') return Array(spec.registers).fill(0xffff);
  if (spec.encoding === 'ascii') return Array(spec.registers).fill(0);
  return fromU32(BLANK_U32, order);
}

/** BCD: one digit per nibble, first digit in the high nibble of the first register, F after the last. */
export function encodeCode(digits: string, spec: CodeSpec, order: WordOrder): number[] {
  if (spec.encoding === 'uint32') return fromU32(Number(digits), order);
  const registers: number[] = [];
  if (spec.encoding === 'bcd') {
    const nibbles = [...digits].map(Number);
    while (nibbles.length < spec.registers * 4) nibbles.push(0xf);
    for (let r = 0; r < spec.registers; r++)
      registers.push((nibbles[r * 4] << 12) | (nibbles[r * 4 + 1] << 8) | (nibbles[r * 4 + 2] << 4) | nibbles[r * 4 + 3]);
    return registers;
  }
  const bytes = Buffer.alloc(spec.registers * 2);
  bytes.write(digits, 'latin1');
  for (let r = 0; r < spec.registers; r++) registers.push(bytes.readUInt16BE(r * 2));
  return registers;
}

/** What code registers hold: nothing, a well-formed code, or something this encoding cannot mean. */
export function decodeCode(
  registers: ArrayLike<number>,
  spec: CodeSpec,
  order: WordOrder,
): { kind: 'blank' } | { kind: 'code'; digits: string } | { kind: 'invalid' } {
  const regs = Array.from(registers).slice(0, spec.encoding === 'uint32' ? 2 : spec.registers);
  if (regs.every((v, i) => v === blankCode(spec, order)[i])) return { kind: 'blank' };
  let digits = '';
  if (spec.encoding === 'uint32') {
    const value = toU32(regs, order);
    if (value >= 10 ** spec.maxLength) return { kind: 'invalid' };
    digits = String(value).padStart(spec.maxLength, '0');
  } else if (spec.encoding === 'bcd') {
    const nibbles = regs.flatMap((v) => [v >> 12, (v >> 8) & 0xf, (v >> 4) & 0xf, v & 0xf]);
    const end = nibbles.indexOf(0xf);
    const used = end < 0 ? nibbles : nibbles.slice(0, end);
    if (used.some((n) => n > 9) || (end >= 0 && nibbles.slice(end).some((n) => n !== 0xf))) return { kind: 'invalid' };
    digits = used.join('');
  } else {
    const text = Buffer.from(regs.flatMap((v) => [v >> 8, v & 0xff])).toString('latin1');
    const end = text.indexOf('\0');
    digits = end < 0 ? text : text.slice(0, end);
    if (!/^\d*$/.test(digits) || (end >= 0 && /[^\0]/.test(text.slice(end)))) return { kind: 'invalid' };
  }
  if (digits.length < spec.minLength || digits.length > spec.maxLength) return { kind: 'invalid' };
  return { kind: 'code', digits };
}

/* Names: printable ASCII, two characters per register, NUL padded. */

export function nameCapacity(spec: NameSpec): number {
  return spec.registers * 2;
}

export function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

export function encodeName(name: string, spec: NameSpec): number[] {
  const bytes = Buffer.alloc(spec.registers * 2);
  bytes.write(name.slice(0, nameCapacity(spec)), 'latin1');
  return Array.from({ length: spec.registers }, (_, r) => (spec.byteOrder === 'high-first' ? bytes.readUInt16BE(r * 2) : bytes.readUInt16LE(r * 2)));
}

export function decodeName(registers: ArrayLike<number>, spec: NameSpec): string {
  const bytes = Buffer.alloc(spec.registers * 2);
  for (let r = 0; r < spec.registers; r++) {
    if (spec.byteOrder === 'high-first') bytes.writeUInt16BE(registers[r] ?? 0, r * 2);
    else bytes.writeUInt16LE(registers[r] ?? 0, r * 2);
  }
  const text = bytes.toString('latin1');
  const end = text.indexOf('\0');
  // Characters outside printable ASCII are shown as '?', never passed on raw to a terminal.
  return (end < 0 ? text : text.slice(0, end)).replace(/[^\x20-\x7e]/g, '?').trimEnd();
}

/* Partitions: bit 0 of the (first, per word order) register is partition 1. */

export function encodePartitions(partitions: number[], registers: 1 | 2, order: WordOrder): number[] {
  let mask = 0;
  for (const p of partitions) mask += 2 ** (p - 1);
  return writeNumber(mask, registers, order);
}

export function decodePartitions(regs: ArrayLike<number>, registers: 1 | 2, order: WordOrder): number[] {
  const mask = readNumber(regs, registers, order);
  const out: number[] = [];
  for (let p = 1; p <= registers * 16; p++) if (Math.floor(mask / 2 ** (p - 1)) % 2 === 1) out.push(p);
  return out;
}

/* Identification values. */

export function decodeIdent(registers: ArrayLike<number>, encoding: string, order: WordOrder): string {
  const regs = Array.from(registers);
  switch (encoding) {
    case 'ascii':
      return decodeName(regs, { offset: 0, registers: regs.length, encoding: 'ascii', byteOrder: 'high-first' });
    case 'uint16':
      return String(regs[0]);
    case 'uint32':
      return String(toU32(regs, order));
    default:
      return regs.join('.'); // version: one number per register
  }
}

/* A whole slot record. */

export interface SlotRecord {
  present: boolean;
  enabled?: boolean;
  /** From the device's codeSet bit, or (without one) from the code registers being non-blank. */
  hasCode: boolean;
  name: string;
  type?: string;
  /** The raw type value, when it matches no name in the profile. */
  typeValue?: number;
  partitions?: number[];
}

const bitSet = (value: number, bit: number | undefined) => bit !== undefined && ((value >> bit) & 1) === 1;

/** Decodes a slot from `at(offset)`, the register at that offset of its record. */
export function decodeSlot(at: (offset: number) => number, profile: Profile): SlotRecord {
  const u = profile.users;
  const regs = (offset: number, count: number) => Array.from({ length: count }, (_, i) => at(offset + i));
  const flags = at(u.flags.offset);
  const record: SlotRecord = {
    present: bitSet(flags, u.flags.present),
    hasCode:
      u.flags.codeSet !== undefined
        ? bitSet(flags, u.flags.codeSet)
        : decodeCode(regs(u.code.offset, u.code.registers), u.code, profile.wordOrder).kind !== 'blank',
    name: decodeName(regs(u.name.offset, u.name.registers), u.name),
  };
  if (u.flags.enabled !== undefined) record.enabled = bitSet(flags, u.flags.enabled);
  if (u.type) {
    const value = at(u.type.offset);
    const name = Object.entries(u.type.values).find(([, v]) => v === value)?.[0];
    if (name) record.type = name;
    else record.typeValue = value;
  }
  if (u.partitions) record.partitions = decodePartitions(regs(u.partitions.offset, u.partitions.registers), u.partitions.registers, profile.wordOrder);
  return record;
}

/** The type a new user gets unless told otherwise. */
export function defaultType(profile: Profile): string | undefined {
  const t = profile.users.type;
  return t ? (t.default ?? Object.keys(t.values)[0]) : undefined;
}

export interface SlotWrite {
  name: string;
  code?: string;
  type?: string;
  partitions?: number[];
}

/**
 * Registers for a record span (recordSpan offsets), starting from what the slot holds now so
 * registers between fields that the profile does not describe are written back unchanged.
 * `wanted` undefined means an empty slot: flags cleared, code blank, name empty.
 */
export function encodeRecord(current: number[], profile: Profile, wanted: SlotWrite | undefined): number[] {
  const u = profile.users;
  const span = recordSpan(u);
  const out = [...current];
  const put = (offset: number, values: number[]) => values.forEach((v, i) => (out[offset - span.from + i] = v));
  let flags = current[u.flags.offset - span.from] ?? 0;
  const setBit = (bit: number | undefined, on: boolean) => {
    if (bit !== undefined) flags = on ? flags | (1 << bit) : flags & ~(1 << bit);
  };
  setBit(u.flags.present, wanted !== undefined);
  setBit(u.flags.enabled, wanted !== undefined);
  setBit(u.flags.codeSet, wanted?.code !== undefined);
  put(u.flags.offset, [flags]);
  put(u.code.offset, wanted?.code !== undefined ? encodeCode(wanted.code, u.code, profile.wordOrder) : blankCode(u.code, profile.wordOrder));
  put(u.name.offset, encodeName(wanted?.name ?? '', u.name));
  if (u.type) {
    put(u.type.offset, [u.type.values[wanted?.type ?? defaultType(profile) ?? '']]);
  }
  if (u.partitions) put(u.partitions.offset, encodePartitions(wanted?.partitions ?? [], u.partitions.registers, profile.wordOrder));
  return out;
}
