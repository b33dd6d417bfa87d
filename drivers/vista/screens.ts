import { pad } from './messages.js';

/**
 * What the keypad display shows in the states this driver meets, and how the driver reads it.
 * One module, so the simulator's screens and the driver's reading cannot drift apart. The idle
 * text is the one in the AlarmDecoder firmware's example; the test texts are the user guides'
 * (README: "The VISTA keypad commands"); the walk/dial choice layout is our model.
 */
export const Screen = {
  idle: [pad('****DISARMED****'), pad('  Ready to Arm  ')],
  notReady: (zone: number) => [pad(`FAULT ${String(zone).padStart(2, '0')}`), pad('')],
  dialOrWalk: [pad('1 = DIAL'), pad('0 = WALK')],
  test: [pad('TEST IN PROGRESS'), pad('')],
  programming: [pad('Installer Code'), pad('20')],
} as const;

/** The walk test shows "TEST IN PROGRESS", "Test in Progress" or "Burg Walk Test in Progress" (README). */
export function showsTest(text: string): boolean {
  return /test in progress/i.test(text.replace(/\s+/g, ' '));
}

/** The two display lines as people read them, runs of 3+ digits masked (a code typed may show). */
export function displayShown(text: string): string {
  const lines = [text.slice(0, 16).trim(), text.slice(16, 32).trim()].filter(Boolean).join(' / ');
  return lines.replace(/\d{3,}/g, (run) => '*'.repeat(run.length));
}
