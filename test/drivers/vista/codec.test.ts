import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ad2Decoder, type Ad2Frame, MAX_LINE, showLine } from '../../../drivers/vista/codec.js';
import { addressMaskOf, formatKeypadMessage, isFor, parseLine } from '../../../drivers/vista/messages.js';

/** Lines copied from public AlarmDecoder material (drivers/vista/README.md cites each). */
const IOT_LOG = '[10000011000000003A--],008,[f70600ef1008001c18020000000000],"DISARMED BYPASS   Ready to Arm  "';
const LIB_TEST = '[00000000000000000A--],001,[f707000600e5800c0c020000],"FAULT 1                         "';
const KPM = '!KPM:[00000000000000000A--],000,[f707000600e5800c0c020000],"                                "';

const lines = (text: string) => Buffer.from(text, 'latin1');

function decodeAll(...chunks: string[]): Ad2Frame[] {
  const decoder = new Ad2Decoder();
  return chunks.flatMap((chunk) => decoder.push(lines(chunk)));
}

describe('AlarmDecoder keypad messages', () => {
  it('reads the bit field, numeric code, address mask and display of a line from a real AD2 log', () => {
    const line = parseLine(IOT_LOG);
    expect(line?.kind).toBe('keypad');
    if (line?.kind !== 'keypad') return;
    const m = line.message;
    expect(m.bits.ready).toBe(true);
    expect(m.bits.armedAway).toBe(false);
    expect(m.bits.zoneBypassed).toBe(true); // position 7 (the display says BYPASS)
    expect(m.bits.acPower).toBe(true);
    expect(m.beeps).toBe(0);
    expect(m.systemSpecific).toBe(3);
    expect(m.panelType).toBe('A');
    expect(m.numeric).toBe('008');
    expect(m.text).toBe('DISARMED BYPASS   Ready to Arm  ');
    // 0600ef10 little-endian: 0x10ef0006, keypad addresses 1, 2, 16-19, 21-23 and 28.
    expect(m.addressMask).toBe(0x10ef0006);
    expect(isFor(m, 18)).toBe(true);
    expect(isFor(m, 20)).toBe(false);
  });

  it('takes the 24-digit raw data of older firmware and the optional !KPM: header', () => {
    const old = parseLine(LIB_TEST);
    expect(old?.kind === 'keypad' && old.message.addressMask).toBe(addressMaskOf('f707000600'));
    expect(old?.kind === 'keypad' && old.message.text.trim()).toBe('FAULT 1');
    const kpm = parseLine(KPM);
    expect(kpm?.kind === 'keypad' && kpm.message.kpm).toBe(true);
  });

  it('reads the beep count at position 6 and programming mode at position 5', () => {
    const m = parseLine('[00001100000000000A--],000,[f70000040000001c08020000000000],"****DISARMED****  Ready to Arm  "');
    expect(m?.kind === 'keypad' && m.message.beeps).toBe(1);
    expect(m?.kind === 'keypad' && m.message.bits.programming).toBe(true);
  });

  it('accepts - for bits old firmware leaves undefined, read as not set', () => {
    const m = parseLine('[001000010000--------],010,[f70700060010808c08020000],"ARMED ***STAY** ZONE BYPASSED   "');
    expect(m?.kind === 'keypad' && m.message.bits.armedHome).toBe(true);
    expect(m?.kind === 'keypad' && m.message.bits.entryDelayOff).toBe(false);
    expect(m?.kind === 'keypad' && m.message.panelType).toBe('-');
  });

  it('refuses anything that is not exactly the shape: short display, odd raw data, a beep digit over 7, junk after', () => {
    const bad = [
      '[00000000000000000A--],001,[f707000600e5800c0c020000],"FAULT 1"', // 7 display characters, not 32
      '[00000000000000000A--],001,[f707000600e5800c0c0200],"FAULT 1                         "', // 22 hex digits
      '[00000800000000000A--],001,[f707000600e5800c0c020000],"FAULT 1                         "', // 8 beeps
      `${LIB_TEST} `,
      '[00000000000000000X--],001,[f707000600e5800c0c020000],"FAULT 1                         "',
      '[0000000000000000A--],001,[f707000600e5800c0c020000],"FAULT 1                         "', // 19-character field
    ];
    for (const line of bad) expect(parseLine(line), line).toBeUndefined();
  });

  it('writes messages the parser reads back (the simulator uses this)', () => {
    fc.assert(
      fc.property(
        fc.record({ ready: fc.boolean(), programming: fc.boolean(), armedAway: fc.boolean() }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 999 }),
        fc.subarray([0, 1, 5, 16, 17, 18, 31], { minLength: 1 }),
        fc.string({ unit: fc.constantFrom(...' ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-'.split('')), maxLength: 16 }),
        (bits, beeps, numeric, addresses, text) => {
          const line = formatKeypadMessage({ bits, beeps, numeric, addresses, lines: [text, ''] });
          const parsed = parseLine(line);
          expect(parsed?.kind).toBe('keypad');
          if (parsed?.kind !== 'keypad') return;
          expect(parsed.message.bits).toMatchObject(bits);
          expect(parsed.message.beeps).toBe(beeps);
          expect(Number(parsed.message.numeric)).toBe(numeric);
          for (const a of addresses) expect(isFor(parsed.message, a)).toBe(true);
          expect(parsed.message.text.slice(0, 16).trimEnd()).toBe(text.trimEnd());
        },
      ),
    );
  });
});

describe('other AlarmDecoder lines', () => {
  it('reads !VER, !CONFIG, !Sending and the expander/RF lines of the Python library tests', () => {
    expect(parseLine('!VER:ffffffff,V2.2a.8.8,TX;RX;SM')).toEqual({ kind: 'version', serial: 'ffffffff', version: 'V2.2a.8.8', flags: ['TX', 'RX', 'SM'] });
    const config = parseLine('!CONFIG>MODE=A&CONFIGBITS=ff04&ADDRESS=18&LRR=N&COM=N&EXP=NNNNN&REL=NNNN&MASK=ffffffff&DEDUPLICATE=N');
    expect(config?.kind === 'config' && config.settings).toMatchObject({ MODE: 'A', ADDRESS: '18', MASK: 'ffffffff' });
    expect(parseLine('!Sending.done')).toEqual({ kind: 'sending', ok: true, attempts: 1 });
    expect(parseLine('!Sending.....done')).toEqual({ kind: 'sending', ok: false, attempts: 5 });
    expect(parseLine('!EXP:07,01,01')?.kind).toBe('event');
    expect(parseLine('!RFX:0180036,80')?.kind).toBe('event');
    expect(parseLine('!LRR:012,1,ARM_STAY')?.kind).toBe('event');
    expect(parseLine('!Ready')?.kind).toBe('boot');
  });

  it('refuses near misses: unknown headers, a malformed expander line, a sending line with six dots', () => {
    for (const line of ['!XYZ:1', '!EXP:7,1,1', '!Sending......done', '!VER:', '!CONFIG>', 'Hello']) expect(parseLine(line), line).toBeUndefined();
  });
});

describe('the AlarmDecoder line decoder', () => {
  it('decodes lines split and merged anywhere, CR LF, CR or LF alone ending them', () => {
    const stream = `${LIB_TEST}\r\n!VER:ffffffff,V2.2a.8.8,TX\r${IOT_LOG}\n`;
    for (const cut of [1, 5, 30, 90, stream.length - 1]) {
      const decoder = new Ad2Decoder();
      decoder.push(lines('\r\n')); // synced: a connection that starts on a line boundary
      const frames = [...decoder.push(lines(stream.slice(0, cut))), ...decoder.push(lines(stream.slice(cut)))];
      expect(frames.map((f) => f.kind)).toEqual(['keypad', 'version', 'keypad']);
    }
  });

  it('drops a first line cut by the connection starting mid-line, and only the first', () => {
    const frames = decodeAll(`0000000A--],001,[f707000600e5800c0c020000],"FAULT 1                         "\r\n${LIB_TEST}\r\n`);
    expect(frames.map((f) => f.kind)).toEqual(['keypad']);
    const later = decodeAll(`${LIB_TEST}\r\n`, '0000000A--],001,"x"\r\n');
    expect(later.map((f) => f.kind)).toEqual(['keypad', 'client']);
  });

  it('reports keys or commands at the start of a line as the client speaking (an echo), at once and without the text', () => {
    const decoder = new Ad2Decoder();
    decoder.push(lines(`${LIB_TEST}\r\n`));
    // Keys go out with no line end, so an echo may never end its line: it must be seen from the first byte.
    const frames = decoder.push(lines('4821803'));
    expect(frames).toEqual([{ kind: 'client' }]);
    expect(JSON.stringify(frames)).not.toContain('4821');
    expect(decoder.push(lines(`5555\r\n${LIB_TEST}\r\n`)).map((f) => f.kind)).toEqual(['keypad']);
  });

  it('reports our own V coming back as an echo even as the very first line', () => {
    expect(decodeAll('V\r\n')).toEqual([{ kind: 'client' }]);
  });

  it('reports a line that starts right but does not parse as malformed, digits masked', () => {
    const frames = decodeAll('\r\n', '[00000000000000000A--],001,[4821],"x"\r\n');
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ kind: 'malformed', reason: 'not an AlarmDecoder line' });
    expect(JSON.stringify(frames)).not.toContain('4821');
    expect(showLine('[4821]')).toBe('[****]');
  });

  it('reports a non-printable byte and an over-long line, holding at most MAX_LINE bytes', () => {
    const decoder = new Ad2Decoder();
    decoder.push(lines('\r\n'));
    expect(decoder.push(Buffer.from([0x5b, 0x30, 0xfe])).map((f) => f.kind)).toEqual(['malformed']);
    decoder.push(lines('\r\n'));
    const long = decoder.push(Buffer.concat([Buffer.from('['), Buffer.alloc(MAX_LINE * 4, 0x30)]));
    expect(long.map((f) => f.kind)).toEqual(['malformed']);
    expect(decoder.held).toBeLessThanOrEqual(MAX_LINE);
    expect(decoder.push(lines(`\r\n${LIB_TEST}\r\n`)).map((f) => f.kind)).toEqual(['keypad']);
  });

  it('never holds more than MAX_LINE bytes and never throws, whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const decoder = new Ad2Decoder();
        for (const chunk of chunks) {
          decoder.push(chunk);
          expect(decoder.held).toBeLessThanOrEqual(MAX_LINE);
        }
      }),
    );
  });
});
