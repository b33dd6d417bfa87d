import { LCD_WIDTH, slotKind, twoDigits } from './messages.js';

/**
 * What the simulated PowerSeries LCD keypad shows, and how the driver reads it back. One module,
 * so the simulator's screens and the driver's parsing cannot drift apart. The layout of each screen
 * is our model of a 16x2 DSC LCD keypad (README: assumptions); the "P" for a programmed slot is DSC's.
 */

export const pad = (text: string) => text.padEnd(LCD_WIDTH).slice(0, LCD_WIDTH);

const KIND_LABEL: Record<string, string> = { user: 'User', duress: 'Duress', master: 'Master', supervisor: 'Super' };

export const Screen = {
  idle: [pad('System is Ready'), pad('to Arm        <>')],
  walkTestIdle: [pad('Walk Test Active'), pad('Zones: none open')],
  selectHeader: pad('Select Code   <>'),
  enterCode: pad('Enter New Code'),
  installerMenu: [pad('Enter Section'), pad('---')],
  masterPrompt: [pad('Enter Master'), pad('Code')],
  installerPrompt: [pad('Enter Installer'), pad('Code')],
  codeInUse: pad('Code In Use'),
  invalidEntry: pad('Invalid Entry'),
} as const;

/** A slot line of the [*][5] menu: "Code 05 User   P". */
export function slotLine(slot: number, programmed: boolean): string {
  return pad(`Code ${twoDigits(slot)} ${KIND_LABEL[slotKind(slot)].padEnd(7)}${programmed ? 'P' : ' '}`);
}

export function parseSlotLine(text: string): { slot: number; programmed: boolean } | undefined {
  const match = /^Code (\d\d) .{7}([P ])\s*$/.exec(text);
  return match ? { slot: Number(match[1]), programmed: match[2] === 'P' } : undefined;
}

/** The new-code line while digits are typed: the keypad shows a star per digit, never the digit. */
export function entryLine(typed: number): string {
  return typed === 0 ? Screen.enterCode : pad(`New Code ${'*'.repeat(typed)}`);
}

export type Display =
  | { screen: 'idle'; walkTest: boolean }
  | { screen: 'select'; slot: number; programmed: boolean }
  | { screen: 'entry'; slot: number; programmed: boolean }
  | { screen: 'installer' }
  | { screen: 'prompt'; for: 'master' | 'installer' }
  | { screen: 'refused'; text: string }
  | { screen: 'unknown'; text: string };

/** What the two LCD lines mean. */
export function readDisplay(lines: readonly [string, string] | string[]): Display {
  const [top, bottom] = lines;
  if (top === Screen.idle[0]) return { screen: 'idle', walkTest: false };
  if (top === Screen.walkTestIdle[0]) return { screen: 'idle', walkTest: true };
  if (top === Screen.installerMenu[0]) return { screen: 'installer' };
  if (top === Screen.masterPrompt[0]) return { screen: 'prompt', for: 'master' };
  if (top === Screen.installerPrompt[0]) return { screen: 'prompt', for: 'installer' };
  if (top === Screen.selectHeader) {
    const slot = parseSlotLine(bottom);
    if (slot) return { screen: 'select', ...slot };
  }
  const entry = parseSlotLine(top);
  if (entry && (bottom === Screen.enterCode || bottom.startsWith('New Code'))) return { screen: 'entry', ...entry };
  if (bottom === Screen.codeInUse || bottom === Screen.invalidEntry) return { screen: 'refused', text: bottom.trim() };
  return { screen: 'unknown', text: `${top.trim()} / ${bottom.trim()}` };
}
