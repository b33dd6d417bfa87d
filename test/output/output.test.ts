import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Output, type OutputFormat } from '../../src/output/output.js';

/** An Output writing into two in-memory streams, and what each received. */
function captured(format: OutputFormat = 'table') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = { stdout: '', stderr: '' };
  stdout.on('data', (chunk) => (text.stdout += chunk));
  stderr.on('data', (chunk) => (text.stderr += chunk));
  const streams = { stdout: stdout as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream };
  return { out: new Output({ format, color: false, interactive: false, streams }), text };
}

describe('Output: every line panelctl writes', () => {
  it('writes to the streams it was given, not the process ones', () => {
    const { out, text } = captured();
    out.say('to stdout');
    out.notice('to stderr');
    expect(text).toEqual({ stdout: 'to stdout\n', stderr: 'to stderr\n' });
  });

  it('notices reach stderr in machine formats too, and stdout stays clean JSON', () => {
    const { out, text } = captured('json');
    out.notice('simulated panel listening');
    out.result({ ok: true }, undefined, undefined);
    expect(text.stderr).toBe('simulated panel listening\n');
    expect(JSON.parse(text.stdout)).toEqual({ ok: true });
  });

  it('a --debug trace quoting panel text shows its escapes instead of obeying them', () => {
    const { out, text } = captured();
    out.trace('rx', 'LCD "\x1b]0;owned\x07"');
    expect(text.stderr).toBe('[rx] LCD "\\x1b]0;owned\\x07"\n');
  });

  it('a line written while a progress line is drawn clears it first, never glued onto its end', () => {
    const { out, text } = captured();
    out.terminal('\r\x1b[2K', 'bulk: 1/2 panels');
    out.warn('interrupted: finishing the writes in flight');
    out.notice('oslo asked for 60 s without requests');
    out.terminal('\r\x1b[2K', 'bulk: 2/2 panels');
    out.terminal('\r\x1b[2K');
    out.notice('done');
    expect(text.stderr).toBe(
      '\r\x1b[2Kbulk: 1/2 panels\r\x1b[2Kwarning: interrupted: finishing the writes in flight\noslo asked for 60 s without requests\n' +
        '\r\x1b[2Kbulk: 2/2 panels\r\x1b[2Kdone\n',
    );
  });

  it("terminal control passes panelctl's own sequence and makes the text after it printable", () => {
    const { out, text } = captured();
    out.terminal('\r\x1b[2K', 'bulk: 1/2 panels \x1b[2J');
    expect(text.stderr).toBe('\r\x1b[2Kbulk: 1/2 panels \\x1b[2J');
  });

  it('print writes a shell screen line to stdout in every format', () => {
    const { out, text } = captured('json');
    out.print('ON TEST until 14:00 \u202e');
    expect(text.stdout).toBe('ON TEST until 14:00 \\u202e\n');
  });
});
