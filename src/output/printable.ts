/**
 * Text from outside panelctl (user names read from a panel, inventory fields, audit entries,
 * change lists) must not drive the operator's terminal: an ESC can clear the screen, retitle
 * the window or write the clipboard (OSC 52), a C1 CSI (U+009B) does the same on some
 * terminals, a carriage return overwrites what was printed, and bidi overrides (Trojan
 * Source, CVE-2021-42574) make text read differently from what it is. Each such character
 * is shown as a visible escape instead: `\x1b`, `\x9b`, `\u202e`.
 */

// C0 controls, DEL, C1 controls, and the bidi embedding/override/isolate marks (plus ALM, LRM, RLM).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEPING_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

// The same sets, asked only whether a text holds any (no global state): most texts hold none and are kept as they are.
const ANY_UNSAFE = new RegExp(UNSAFE.source);
const ANY_UNSAFE_KEEPING_LINES = new RegExp(UNSAFE_KEEPING_LINES.source);

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One value for one line (a table cell, a name in a sentence): every control is escaped, newlines too. */
export function printable(text: string): string {
  return ANY_UNSAFE.test(text) ? text.replace(UNSAFE, escapeOne) : text;
}

/**
 * The colour codes panelctl itself writes through chalk (level 1): reset, bold, dim, normal
 * intensity, the 16 foreground colours and their reset. Nothing else (no concealed text, no
 * cursor movement, no OSC) passes as "style".
 */
const OWN_STYLE = /\x1b\[(\d{1,2})m/y;
const STYLE_PARAMS = new Set([0, 1, 2, 22, 39, ...Array.from({ length: 8 }, (_, i) => 30 + i), ...Array.from({ length: 8 }, (_, i) => 90 + i)]);

/**
 * A message or a rendered line that may hold panelctl's own colours around outside text:
 * keeps newlines and tabs (unless `keepLines` is false, for one table cell), keeps the colour codes above when `keepStyle` (colour is on),
 * and escapes every other control character.
 */
export function printableMessage(text: string, keepStyle: boolean, keepLines = true): string {
  // Nothing to escape and no colour code (ESC is one of the controls): the text as it is (a table of 10,000 rows, issue 18).
  if (!(keepLines ? ANY_UNSAFE_KEEPING_LINES : ANY_UNSAFE).test(text)) return text;
  const unsafe = keepLines ? UNSAFE_KEEPING_LINES : UNSAFE;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== 0x1b || !keepStyle) continue;
    OWN_STYLE.lastIndex = i;
    const match = OWN_STYLE.exec(text);
    if (!match || !STYLE_PARAMS.has(Number(match[1]))) continue;
    out += text.slice(from, i).replace(unsafe, escapeOne) + match[0];
    from = i + match[0].length;
    i = from - 1;
  }
  return out + text.slice(from).replace(unsafe, escapeOne);
}

/**
 * A row (plain objects and arrays, any depth) whose strings are printable; other values are kept
 * as they are. Tables format rows after this, so their own colours survive. Copy on write: a row
 * with nothing to escape is returned as it is, so a table of 10,000 team leases copies nothing.
 */
export function printableRow<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const safe = printableRow(value[i]);
      if (safe === value[i]) continue;
      copy ??= value.slice();
      copy[i] = safe;
    }
    return (copy ?? value) as T;
  }
  if (value && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    let copy: Record<string, unknown> | undefined;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const safe = printableRow(record[key]);
      if (safe === record[key]) continue;
      copy ??= { ...record };
      copy[key] = safe;
    }
    return (copy ?? value) as T;
  }
  return value;
}

/**
 * JSON for a terminal or a pipe: JSON.stringify already escapes C0 controls; this also escapes
 * DEL, C1 controls and bidi marks as \uXXXX, which any JSON parser reads back as the same string.
 */
export function printableJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
