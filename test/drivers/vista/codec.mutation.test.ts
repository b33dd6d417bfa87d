import { describe, expect, it } from 'vitest';
import { Ad2Decoder, MAX_LINE, showLine } from '../../../drivers/vista/codec.js';

// The AlarmDecoder line decoder, rule by rule (issue 21 mutation floor): codec.test.ts checks the streams of real
// logs; here each boundary (printable range, line length, what a client's first byte is, the first line of a
// connection) and each counter and message is pinned on its own.

const LIB_TEST = '[00000000000000000A--],001,[f707000600e5800c0c020000],"FAULT 1                         "';
const bytes = (text: string) => Buffer.from(text, 'latin1');

/** A decoder past its first line end, so the next byte starts a line. */
function synced(): Ad2Decoder {
  const decoder = new Ad2Decoder();
  expect(decoder.push(bytes('\n'))).toEqual([]);
  return decoder;
}

describe('showLine', () => {
  it('masks every digit and shows at most 40 characters, marking a cut with ...', () => {
    expect(showLine('a0123456789b')).toBe('a**********b');
    const forty = `[${'x'.repeat(38)}]`;
    expect(showLine(forty)).toBe(forty);
    expect(showLine(`${forty}9`)).toBe(`${forty}...`);
    expect(showLine('')).toBe('');
  });
});

describe('a line that starts the way only a client does', () => {
  it('is reported for each key and device command, at once and counted as rejected', () => {
    for (const c of '0123456789*#VCKL=') {
      const decoder = synced();
      expect(decoder.push(bytes(c)), c).toEqual([{ kind: 'client' }]);
      expect(decoder.rejected).toBe(1);
      expect(decoder.held).toBe(0);
    }
  });

  it('any other first byte that is not [ or ! is malformed, shown masked', () => {
    const decoder = synced();
    expect(decoder.push(bytes('x'))).toEqual([{ kind: 'malformed', reason: 'a line must start with [ or !', shown: 'x' }]);
    expect(decoder.rejected).toBe(1);
  });

  it('the rest of a rejected line is skipped up to its end, then lines are read again', () => {
    const decoder = synced();
    expect(decoder.push(bytes('1234[x]!y'))).toEqual([{ kind: 'client' }]);
    expect(decoder.held).toBe(0);
    expect(decoder.push(bytes(`\r\n${LIB_TEST}\r\n`)).map((f) => f.kind)).toEqual(['keypad']);
    expect(decoder.rejected).toBe(1);
  });

  it('a line starting with ! or [ is read on', () => {
    const decoder = synced();
    expect(decoder.push(bytes('!x'))).toEqual([]);
    expect(decoder.held).toBe(2);
  });
});

describe('bytes a line may not hold', () => {
  it('space and ~ are printable; 0x1f and 0x7f are not, named in hex with two digits', () => {
    const decoder = synced();
    expect(decoder.push(bytes('[ ~'))).toEqual([]);
    expect(decoder.held).toBe(3);
    expect(decoder.push(Buffer.from([0x1f]))).toEqual([{ kind: 'malformed', reason: 'byte 0x1f is not printable ASCII', shown: '[ ~' }]);
    expect(decoder.held).toBe(0);
    decoder.push(bytes('\n'));
    expect(decoder.push(Buffer.from([0x5b, 0x31, 0x7f]))).toEqual([{ kind: 'malformed', reason: 'byte 0x7f is not printable ASCII', shown: '[*' }]);
    decoder.push(bytes('\n'));
    expect(decoder.push(Buffer.from([0x5b, 0x05]))[0]).toMatchObject({ reason: 'byte 0x05 is not printable ASCII' });
    expect(decoder.rejected).toBe(3);
  });

  it('a line of exactly MAX_LINE characters is read; one more is too long, reported once and its rest skipped', () => {
    expect(MAX_LINE).toBe(120);
    const decoder = synced();
    const line = `[${'x'.repeat(MAX_LINE - 1)}`;
    expect(decoder.push(bytes(line))).toEqual([]);
    expect(decoder.held).toBe(MAX_LINE);
    expect(decoder.push(bytes('\n'))).toEqual([{ kind: 'malformed', reason: 'not an AlarmDecoder line', shown: showLine(line) }]);
    // The 121st byte is refused as it arrives: never held.
    expect(decoder.push(bytes(`${line}y`))).toEqual([{ kind: 'malformed', reason: 'the line is longer than 120 characters', shown: showLine(line) }]);
    expect(decoder.held).toBe(0);
    expect(decoder.push(bytes('z'))).toEqual([]);
    expect(decoder.push(bytes(`zz\n${LIB_TEST}\n`)).map((f) => f.kind)).toEqual(['keypad']);
    expect(decoder.rejected).toBe(2);
  });
});

describe('the first line of a connection', () => {
  it('before the first line end, a client-looking start is not judged: the connection may have begun mid-line', () => {
    const decoder = new Ad2Decoder();
    expect(decoder.push(bytes('0A--],001,"x"'))).toEqual([]);
    expect(decoder.push(bytes('\n'))).toEqual([]);
    expect(decoder.partial).toBe(1);
    expect(decoder.rejected).toBe(0);
  });

  it('a first line that parses is kept', () => {
    const decoder = new Ad2Decoder();
    expect(decoder.push(bytes(`${LIB_TEST}\n`)).map((f) => f.kind)).toEqual(['keypad']);
    expect(decoder.partial).toBe(0);
    // Only the first line may be a cut one: the next that does not parse is malformed.
    expect(decoder.push(bytes('[1]\n'))).toEqual([{ kind: 'malformed', reason: 'not an AlarmDecoder line', shown: '[*]' }]);
    expect(decoder.partial).toBe(0);
  });

  it('a non-printable byte or an over-long run before the first line end drops the partial line, reporting nothing', () => {
    const bad = new Ad2Decoder();
    expect(bad.push(Buffer.from([0x41, 0x00, 0x42]))).toEqual([]);
    expect(bad.partial).toBe(1);
    expect(bad.held).toBe(0);
    expect(bad.push(bytes(`\n${LIB_TEST}\n`)).map((f) => f.kind)).toEqual(['keypad']);
    expect(bad.rejected).toBe(0);

    const long = new Ad2Decoder();
    expect(long.push(bytes('y'.repeat(MAX_LINE + 5)))).toEqual([]);
    expect(long.partial).toBe(1);
    expect(long.held).toBe(0);
    expect(long.push(bytes(`\n${LIB_TEST}\n`)).map((f) => f.kind)).toEqual(['keypad']);
    expect(long.rejected).toBe(0);
  });

  it('our own V or C coming straight back is an echo even first; anything else that does not parse is a cut line', () => {
    for (const [echo, end] of [
      ['V', '\r\n'],
      ['C', '\n'],
    ]) {
      const decoder = new Ad2Decoder();
      expect(decoder.push(bytes(`${echo}${end}`))).toEqual([{ kind: 'client' }]);
      expect(decoder.rejected).toBe(1);
      expect(decoder.partial).toBe(0);
      // The echo was a whole line: the next one is read, not skipped.
      expect(decoder.push(bytes(`${LIB_TEST}\n`)).map((f) => f.kind)).toEqual(['keypad']);
    }
    const other = new Ad2Decoder();
    expect(other.push(bytes('K\n'))).toEqual([]);
    expect(other.partial).toBe(1);
  });

  it('a blank line or the LF of a CR LF only syncs the decoder', () => {
    const decoder = new Ad2Decoder();
    expect(decoder.push(bytes('\r\n\n\r'))).toEqual([]);
    expect(decoder.partial).toBe(0);
    expect(decoder.push(bytes('5'))).toEqual([{ kind: 'client' }]);
  });

  it('after the first line, one that does not parse is malformed and the next one is read', () => {
    const decoder = synced();
    expect(decoder.push(bytes('[1]\n'))).toEqual([{ kind: 'malformed', reason: 'not an AlarmDecoder line', shown: '[*]' }]);
    expect(decoder.push(bytes(`${LIB_TEST}\n`)).map((f) => f.kind)).toEqual(['keypad']);
    expect(decoder.partial).toBe(0);
  });
});
