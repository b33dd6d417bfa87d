import type { DriverInfo } from './contract.js';

/**
 * The rules a panel puts on user names, checked before anything is sent (the one-shot
 * command, the shell's name prompt and `bulk plan` all use this): no control characters for
 * any panel (names reach terminals and the audit log), and where the driver declares them
 * (`describe().nameRules`) a maximum length and a character set (INTEGRA: 16 characters of
 * Windows-1250, per the SATEL integration protocol's 16-byte name field).
 */

export interface NameRules {
  maxLength: number;
  /** A WHATWG encoding label the panel stores names in (e.g. 'windows-1250'), or 'ascii' (printable ASCII); absent: any character. */
  charset?: string;
  /** How people call it, for messages ("Windows-1250"). */
  charsetTitle?: string;
}

const charsets = new Map<string, Set<string>>();

/** Every character a single-byte charset can store, by decoding each byte 0x20..0xFF. */
function charactersOf(label: string): Set<string> {
  let set = charsets.get(label);
  if (!set) {
    const bytes = Uint8Array.from({ length: 0x100 - 0x20 }, (_, i) => i + 0x20);
    // WHATWG maps the label "ascii" to windows-1252, so plain ASCII is spelled out: 0x20..0x7E.
    const text = label === 'ascii' ? String.fromCharCode(...bytes.filter((b) => b < 0x7f)) : new TextDecoder(label).decode(bytes);
    set = new Set([...text].filter((c) => c !== '\ufffd' && !/[\u007f-\u009f]/.test(c)));
    charsets.set(label, set);
  }
  return set;
}

const show = (c: string) => `"${c}" (U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')})`;

/** What is wrong with `name` for this driver, in words that name the offending character; undefined when fine. */
export function nameProblem(name: string, info: Pick<DriverInfo, 'name' | 'nameRules'>): string | undefined {
  const control = [...name].find((c) => /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(c));
  if (control) return `must not contain control characters (found U+${control.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')})`;
  const rules = info.nameRules;
  if (!rules) return undefined;
  const length = [...name].length;
  if (length > rules.maxLength) return `is ${length} characters; ${info.name} panels keep at most ${rules.maxLength}`;
  if (rules.charset) {
    const allowed = charactersOf(rules.charset);
    const bad = [...new Set([...name].filter((c) => !allowed.has(c)))];
    if (bad.length) {
      return `${bad.map(show).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not in ${rules.charsetTitle ?? rules.charset}, the character set ${info.name} panels store names in`;
    }
  }
  return undefined;
}
