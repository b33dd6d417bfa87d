/**
 * The lines an AlarmDecoder (AD2USB / AD2PI / AD2SERIAL) sends, parsed strictly: a line either has
 * exactly one of the shapes below or it is not an AlarmDecoder line at all. Pure; shared by the
 * driver and the simulator. Sources for every field: README.md "The AlarmDecoder message stream".
 */

export interface StatusBits {
  ready: boolean;
  armedAway: boolean;
  armedHome: boolean;
  backlight: boolean;
  programming: boolean;
  zoneBypassed: boolean;
  acPower: boolean;
  chime: boolean;
  alarmOccurred: boolean;
  alarmSounding: boolean;
  lowBattery: boolean;
  entryDelayOff: boolean;
  fire: boolean;
  systemIssue: boolean;
  perimeterOnly: boolean;
}

/** Bit field positions 1..16 (position 6 is the beep count, not a flag). */
const FLAG_POSITIONS: Array<[keyof StatusBits, number]> = [
  ['ready', 1],
  ['armedAway', 2],
  ['armedHome', 3],
  ['backlight', 4],
  ['programming', 5],
  ['zoneBypassed', 7],
  ['acPower', 8],
  ['chime', 9],
  ['alarmOccurred', 10],
  ['alarmSounding', 11],
  ['lowBattery', 12],
  ['entryDelayOff', 13],
  ['fire', 14],
  ['systemIssue', 15],
  ['perimeterOnly', 16],
];

export const DISPLAY_WIDTH = 32;
export const LINE_WIDTH = 16;

export interface KeypadMessage {
  bits: StatusBits;
  /** How many beeps the panel asked the keypads for with this message (0..7). */
  beeps: number;
  /** Bit 17, the system-specific nibble, when present. */
  systemSpecific?: number;
  /** Bit 18: A = Ademco (VISTA), D = DSC; `-` on old firmware. */
  panelType: 'A' | 'D' | '-';
  /** Usually the zone the display is about, zero-padded decimal ("008"). */
  numeric: string;
  /** The raw panel data, hex, without brackets (24 or 30 digits). */
  raw: string;
  /** Which keypad addresses (bit n = address n) the message is for: raw bytes 1..4, little-endian. */
  addressMask: number;
  /** The 32 display characters: line 1 then line 2. */
  text: string;
  /** The line carried the optional `!KPM:` header. */
  kpm: boolean;
}

export type Ad2Event = 'EXP' | 'REL' | 'RFX' | 'LRR' | 'AUI' | 'KPE' | 'CRC' | 'ERR';

export type Ad2Line =
  | { kind: 'keypad'; message: KeypadMessage }
  | { kind: 'version'; serial: string; version: string; flags: string[] }
  | { kind: 'config'; settings: Record<string, string> }
  /** `!Sending.done`: keys went out on the keypad bus (ok), or failed after five tries. */
  | { kind: 'sending'; ok: boolean; attempts: number }
  /** `!Ready` or `!boot`: the AlarmDecoder (re)started. */
  | { kind: 'boot'; text: string }
  /** Expander, relay, RF, long-range-radio and other reports this driver has no use for. */
  | { kind: 'event'; event: Ad2Event; data: string };

const KEYPAD =
  /^(!KPM:)?\[([01-]{5})([0-7])([01-]{10})([0-9A-Fa-f-])([AD-])([0-9A-Fa-f-]{2})\],([0-9A-Fa-f]{3}),\[([0-9A-Fa-f]{24}|[0-9A-Fa-f]{30})\],"([\x20-\x7e]{32})"$/;
const VERSION = /^!VER:([0-9A-Fa-f]{1,8}),([\x21-\x2b\x2d-\x7e]+),([\x20-\x2b\x2d-\x7e]*)$/;
const CONFIG = /^!CONFIG>([A-Z]+=[\x21-\x25\x27-\x3c\x3e-\x7e]*(?:&[A-Z]+=[\x21-\x25\x27-\x3c\x3e-\x7e]*)*)$/;
const SENDING = /^!Sending(\.{1,5})done$/;
const EVENT_SHAPES: Record<Ad2Event, RegExp> = {
  EXP: /^\d\d,\d\d,\d\d$/,
  REL: /^\d\d,\d\d,\d\d$/,
  RFX: /^[0-9A-Fa-f]{7},[0-9A-Fa-f]{2}$/,
  LRR: /^[\x20-\x7e]{1,80}$/,
  AUI: /^[\x20-\x7e]{1,80}$/,
  KPE: /^[\x20-\x7e]{1,80}$/,
  CRC: /^[\x20-\x7e]{1,80}$/,
  ERR: /^[\x20-\x7e]{1,80}$/,
};

/** Decodes the four bytes after the message type: little-endian, bit n = keypad address n. */
export function addressMaskOf(raw: string): number {
  let mask = 0;
  for (let i = 0; i < 4; i++) mask += parseInt(raw.slice(2 + 2 * i, 4 + 2 * i), 16) * 2 ** (8 * i);
  return mask;
}

/** Whether a message is meant for the keypad at `address` (0..31). */
export function isFor(message: KeypadMessage, address: number): boolean {
  return Math.floor(message.addressMask / 2 ** address) % 2 === 1;
}

function parseKeypad(line: string): KeypadMessage | undefined {
  const m = KEYPAD.exec(line);
  if (!m) return undefined;
  const [, kpm, first, beeps, rest, specific, type, , numeric, raw, text] = m;
  const field = `${first}${beeps}${rest}`; // positions 1..16
  const bits = {} as StatusBits;
  for (const [name, position] of FLAG_POSITIONS) bits[name] = field[position - 1] === '1';
  return {
    bits,
    beeps: Number(beeps),
    systemSpecific: specific === '-' ? undefined : parseInt(specific, 16),
    panelType: type as KeypadMessage['panelType'],
    numeric,
    raw: raw.toLowerCase(),
    addressMask: addressMaskOf(raw),
    text,
    kpm: kpm !== undefined,
  };
}

/** One line, without its CR LF. Undefined: not an AlarmDecoder line. */
export function parseLine(line: string): Ad2Line | undefined {
  if (line.startsWith('[') || line.startsWith('!KPM:')) {
    const message = parseKeypad(line);
    return message ? { kind: 'keypad', message } : undefined;
  }
  let m = VERSION.exec(line);
  if (m) return { kind: 'version', serial: m[1], version: m[2], flags: m[3] ? m[3].split(';') : [] };
  m = CONFIG.exec(line);
  if (m) return { kind: 'config', settings: Object.fromEntries(m[1].split('&').map((pair) => pair.split('=') as [string, string])) };
  m = SENDING.exec(line);
  if (m) return { kind: 'sending', ok: m[1].length < 5, attempts: m[1].length };
  if (line === '!Ready' || line === '!boot') return { kind: 'boot', text: line };
  const event = /^!([A-Z]{3}):(.*)$/.exec(line);
  if (event && event[1] in EVENT_SHAPES && EVENT_SHAPES[event[1] as Ad2Event].test(event[2])) {
    return { kind: 'event', event: event[1] as Ad2Event, data: event[2] };
  }
  return undefined;
}

// ---- writing keypad messages (the simulator) ----

export interface KeypadMessageFields {
  bits: Partial<StatusBits>;
  beeps?: number;
  numeric?: number;
  /** Keypad addresses the message is for. */
  addresses: number[];
  /** Two display lines (padded or cut to 16 characters each). */
  lines: [string, string];
  kpm?: boolean;
}

export const pad = (text: string, width = LINE_WIDTH) => text.padEnd(width).slice(0, width);

function hexByte(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** A keypad message line as an AD2 in VISTA (Ademco) mode prints it, 30 hex digits of raw data. */
export function formatKeypadMessage(fields: KeypadMessageFields): string {
  const flags = Array<string>(16).fill('0');
  for (const [name, position] of FLAG_POSITIONS) if (fields.bits[name]) flags[position - 1] = '1';
  flags[5] = String(Math.max(0, Math.min(7, fields.beeps ?? 0)));
  const field = `${flags.join('')}0A--`;
  const numeric = Math.max(0, Math.min(999, fields.numeric ?? 0));
  const mask = fields.addresses.reduce((m, a) => m + 2 ** a, 0);
  const maskHex = [0, 1, 2, 3].map((i) => hexByte(Math.floor(mask / 2 ** (8 * i)))).join('');
  // The zone byte reads as the numeric code's last two decimal digits in captured lines (`042` -> `42`).
  const raw = `f7${maskHex}${String(numeric % 100).padStart(2, '0')}001c08020000000000`;
  const text = pad(fields.lines[0]) + pad(fields.lines[1]);
  return `${fields.kpm ? '!KPM:' : ''}[${field}],${String(numeric).padStart(3, '0')},[${raw}],"${text}"`;
}
