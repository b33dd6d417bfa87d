/**
 * Local echo on a serial line: a half-duplex RS-485 adapter that does not turn its receiver off
 * while sending hands our own request back before the device answers. This strips an exact copy
 * of the bytes just sent from the start of what arrives, byte by byte (the echo may come in any
 * chunks), and gives back whatever matched so far the moment a byte differs: then it was not an
 * echo, and the decoder sees every byte. Bounded: it holds at most one request. Pure.
 */
export class EchoFilter {
  private expected?: Buffer;
  private matched = 0;

  /** The request just sent: its echo, if any, comes next. */
  expect(bytes: Buffer): void {
    this.expected = bytes;
    this.matched = 0;
  }

  /** Bytes held while they still look like the start of an echo. */
  get held(): number {
    return this.expected ? this.matched : 0;
  }

  /** Returns the bytes to pass on, and whether a whole echo was just removed. */
  filter(chunk: Buffer): { pass: Buffer; echoed: boolean } {
    const e = this.expected;
    if (!e) return { pass: chunk, echoed: false };
    let i = 0;
    while (i < chunk.length && this.matched < e.length && chunk[i] === e[this.matched]) {
      i++;
      this.matched++;
    }
    if (this.matched === e.length) {
      this.expected = undefined;
      return { pass: chunk.subarray(i), echoed: true };
    }
    if (i === chunk.length) return { pass: Buffer.alloc(0), echoed: false }; // all of it matched so far
    return { pass: this.giveBack(chunk.subarray(i)), echoed: false };
  }

  /** The line went quiet part-way through: the bytes held were not an echo. */
  flush(): Buffer {
    return this.expected ? this.giveBack(Buffer.alloc(0)) : Buffer.alloc(0);
  }

  private giveBack(rest: Buffer): Buffer {
    const held = this.expected!.subarray(0, this.matched);
    this.expected = undefined;
    this.matched = 0;
    return Buffer.concat([held, rest]);
  }
}
