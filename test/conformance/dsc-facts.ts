import type { DriverFacts } from '../support/driver-contract.js';

/**
 * What the two DSC conformance entries share (an Envisalink with keypad text, and one without): codes go out as
 * keystrokes, so a code is counted in the sequence of keys pressed, not in the raw bytes.
 */
export const dscKeystrokeFacts: Pick<DriverFacts, 'slot' | 'name' | 'codes' | 'joinTrace' | 'credential'> = {
  slot: 17,
  name: '',
  codes: ['7391', '8462'],
  // Keys go out as 070 <key> (IT-100) or 071 <partition><up to 6 keys> (Envisalink): a code can span two frames.
  joinTrace: (lines) =>
    lines
      .map((l) => /^tx 070 (.)$/.exec(l)?.[1] ?? /^tx 071 \d(.*)$/.exec(l)?.[1] ?? '')
      .filter((k) => k !== '^')
      .join(''),
  credential: {
    secret: 'code',
    wrong: '5173',
    timesSent: (bytes, value) => {
      const lines = bytes.toString('latin1').split('\r\n');
      const keys = lines
        .filter((l) => l.startsWith('070') || l.startsWith('071'))
        .map((l) => (l.startsWith('070') ? l[3] : l.slice(4, -2)))
        .filter((k) => k !== '^')
        .join('');
      const sentWhole = lines.filter((l) => l.startsWith('200') && l.slice(3).startsWith(value)).length;
      return keys.split(value).length - 1 + sentWhole;
    },
  },
};
