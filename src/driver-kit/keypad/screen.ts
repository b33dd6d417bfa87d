/**
 * What a keypad shows: its text lines and its indicators (LEDs, or an AlarmDecoder's status
 * bits), as the driver last heard them. `seq` counts text updates, so a wait can insist on a
 * display newer than some moment. The meaning of lines and indicator bits is the protocol's.
 */

/** Hides runs of three or more digits (a code on a real LCD) in text meant for people. */
export function maskDigits(text: string): string {
  return text.replace(/\d{3,}/g, (run) => '*'.repeat(run.length));
}

export class KeypadScreen {
  readonly lines: string[];
  /** Counts text updates. */
  seq = 0;
  /** Indicator bits (protocol-defined: DSC keypad LEDs, AlarmDecoder ready/armed/programming...). */
  indicators = 0;

  constructor(
    readonly width: number,
    lineCount: number,
  ) {
    this.lines = Array.from({ length: lineCount }, () => this.pad(''));
  }

  pad(text: string): string {
    return text.padEnd(this.width).slice(0, this.width);
  }

  /** Writes `text` into one line from `column` on (a partial update), counting it. */
  write(line: number, column: number, text: string): void {
    const before = this.lines[line].padEnd(column);
    this.lines[line] = this.pad(before.slice(0, column) + text + before.slice(column + text.length));
    this.seq++;
  }

  /** Replaces the whole text (a keypad message carrying every line), counting it. */
  show(text: string): void {
    for (let line = 0; line < this.lines.length; line++) this.lines[line] = this.pad(text.slice(line * this.width, (line + 1) * this.width));
    this.seq++;
  }

  setIndicator(bit: number, on: boolean): void {
    this.indicators = on ? this.indicators | bit : this.indicators & ~bit;
  }

  has(bit: number): boolean {
    return (this.indicators & bit) !== 0;
  }

  /** What the keypad shows, safe to put in a message (digit runs masked). */
  get shown(): string {
    return maskDigits(this.lines.map((l) => l.trim()).join(' / '));
  }
}
