import type { SlotKind, SlotRange } from '../../src/driver-kit/index.js';

/**
 * Command numbers and data layouts of the IT-100 Developer's Guide and the Envisalink TPI
 * (DSC edition), as far as this driver uses them. Pure; shared by the driver and the simulator.
 */

export const Cmd = {
  poll: '000',
  statusRequest: '001',
  networkLogin: '005', // Envisalink: the TPI password
  virtualKeypad: '058', // IT-100: 1 enables the virtual keypad (keys and LCD updates)
  keyPressed: '070',
  keyString: '071', // Envisalink: partition + up to 6 keys
  userCodeProgramming: '072', // Envisalink: [*][5] on a partition
  userProgramming: '073', // Envisalink: [*][6]
  keepAlive: '074',
  codeSend: '200',
  ack: '500',
  commandError: '501',
  systemError: '502',
  loginInteraction: '505',
  ledState: '510', // Envisalink: keypad LEDs, partition 1, a hex bitmap
  ledFlash: '511',
  partitionReady: '650',
  partitionNotReady: '651',
  keypadLockout: '658',
  invalidAccessCode: '670',
  partitionBusy: '673',
  codeRequired: '900',
  lcdUpdate: '901',
  ledStatus: '903', // IT-100: one LED, its number and state
  masterCodeRequired: '921',
  installerCodeRequired: '922',
} as const;

/** 505 login interaction values (Envisalink TPI). */
export const Login = { failed: '0', ok: '1', timedOut: '2', passwordRequested: '3' } as const;

/** 502 system error codes this driver explains (IT-100 guide and TPI; others are shown as numbers). */
export const SYSTEM_ERRORS: Record<string, string> = {
  '013': 'keybus transmit keystring timeout',
  '014': 'keybus interface not functioning',
  '015': 'keybus busy: attempting to arm or disarm',
  '016': 'keybus busy: keypad lockout',
  '017': 'keybus busy: the panel is in installer mode',
  '018': 'keybus busy',
  '020': 'command syntax error',
  '021': 'requested partition is out of range',
  '022': 'command not supported',
  '023': 'partition is not armed',
  '024': 'partition is not ready to arm',
  '025': 'command has an invalid length',
  '026': 'user code not required',
  '027': 'invalid characters in the command',
  '028': 'virtual keypad is disabled',
  '029': 'not a valid parameter',
};

/** Keypad LED bits of 510/511 (bit 0 Ready ... bit 7 Backlight). */
export const Led = { ready: 0x01, armed: 0x02, memory: 0x04, bypass: 0x08, trouble: 0x10, program: 0x20, fire: 0x40, backlight: 0x80 } as const;
/** IT-100 903 LED numbers, for the same LEDs. */
export const LED_NUMBERS: Record<number, number> = {
  1: Led.ready,
  2: Led.armed,
  3: Led.memory,
  4: Led.bypass,
  5: Led.trouble,
  6: Led.program,
  7: Led.fire,
  8: Led.backlight,
};

/** Keys a virtual keypad accepts: digits, * #, fire/aux/panic, function keys, arrows, and ^ (key break). */
export const KEYS = /^[0-9*#FAPa-e<>=^]*$/;
/** Keys an Envisalink's 071 takes (openHAB's check; the TPI answers others with 502 027): no arrows. */
export const TPI_KEYS = /^[0-9*#]*$/;
/** The Envisalink's 071 carries at most this many keys; longer sequences are split. */
export const MAX_KEYS_PER_STRING = 6;

export function splitKeys(keys: string, size = MAX_KEYS_PER_STRING): string[] {
  const parts: string[] = [];
  for (let i = 0; i < keys.length; i += size) parts.push(keys.slice(i, i + size));
  return parts;
}

/** Slot numbering of PowerSeries PC1616/1832/1864 access codes (the largest panel, PC1864: 95). */
export const MASTER_SLOT = 40;
export const MAX_SLOT = 95;
export const SLOT_RANGES: SlotRange[] = [
  { from: 1, to: 32, kind: 'user' },
  { from: 33, to: 34, kind: 'duress' },
  { from: 35, to: 39, kind: 'user' },
  { from: 40, to: 40, kind: 'master' },
  { from: 41, to: 42, kind: 'supervisor' },
  { from: 43, to: 95, kind: 'user' },
];

export function slotKind(slot: number): SlotKind {
  return SLOT_RANGES.find((r) => slot >= r.from && slot <= r.to)?.kind ?? 'user';
}

export function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

/** 901 LCD update data: line (0/1), column (2 digits), length (2 digits), text. */
export interface LcdUpdate {
  line: number;
  column: number;
  text: string;
}

export const LCD_WIDTH = 16;

export function encodeLcd(update: LcdUpdate): string {
  return `${update.line}${twoDigits(update.column)}${twoDigits(update.text.length)}${update.text}`;
}

export function decodeLcd(data: string): LcdUpdate | undefined {
  const match = /^([01])(\d\d)(\d\d)(.*)$/s.exec(data);
  if (!match) return undefined;
  const [, line, column, length, text] = match;
  if (Number(length) !== text.length || Number(column) + text.length > 32) return undefined;
  return { line: Number(line), column: Number(column), text };
}
