import { describe, expect, it } from 'vitest';
import { FrameChannel, type FrameDecoder } from '../../src/transport/channel.js';
import { memoryPair } from '../../src/transport/memory.js';
import type { ByteStream } from '../../src/transport/types.js';
import { PanelRefusedError, WrongCredentialError } from '../../src/core/errors.js';
import { KeypadEngine, MenuGuard, OneShotCredentials, type KeypadProtocol } from '../../src/driver-kit/index.js';

/**
 * The shared keypad engine with a protocol shaped like an AlarmDecoder's (issue 16 section 2):
 * keypad messages carrying the whole 32-character text and a status bit field, keys sent as plain
 * characters with no acknowledgement. If a Vista driver fits behind KeypadProtocol, this does.
 */

interface AdMessage {
  bits: string;
  text: string;
}

/** Lines from the module, CR LF ended. */
class LineDecoder implements FrameDecoder<string> {
  private held = '';
  push(chunk: Uint8Array): string[] {
    this.held += Buffer.from(chunk).toString('latin1');
    const lines = this.held.split(/\r?\n/);
    this.held = lines.pop() ?? '';
    return lines.filter(Boolean);
  }
}

const Bit = { ready: 0, programming: 4 } as const;

const adProtocol: KeypadProtocol<string, AdMessage, { text: string; ready: boolean; programming: boolean }> = {
  classify(line) {
    const match = /^\[([01-]{20,})\],\d{3},\[[0-9a-f]+\],"(.{32})"$/.exec(line);
    if (!match) return { kind: 'noise', trace: 'not a keypad message (ignored)' };
    return { kind: 'message', frame: { bits: match[1], text: match[2] } };
  },
  observe(frame, screen) {
    screen.show(frame.text);
    screen.indicators = [...frame.bits].reduce((bits, c, i) => (c === '1' ? bits | (1 << i) : bits), 0);
    return `keypad "${screen.shown}"`;
  },
  refusal: (frame) => (frame.text.startsWith('Invalid Code') ? new WrongCredentialError('the panel refused the code') : undefined),
  read: (screen) => ({ text: screen.lines.join(''), ready: screen.has(1 << Bit.ready), programming: screen.has(1 << Bit.programming) }),
  async sendKeys(engine, keys, shown) {
    engine.trace('tx', shown);
    await engine.channel.send(Buffer.from(keys, 'latin1'));
  },
  layoutHint: 'another keypad layout',
  noise: { what: 'lines that are not keypad messages', hint: 'check the baud rate' },
};

function message(text: string, { ready = false, programming = false } = {}): string {
  const bits = `${ready ? 1 : 0}000${programming ? 1 : 0}000000000000000`;
  return `[${bits}],008,[f70000051008000c08020000000000],"${text.padEnd(32)}"\r\n`;
}

/** A Vista-ish panel: the code + 8 enters user programming; `# 0` or a wrong code gets an answer. */
function panel(module: ByteStream, master: string): { keys: () => string } {
  let typed = '';
  module.onData((chunk) => {
    typed += chunk.toString('latin1');
    const say = (text: string, flags = {}) => void module.write(Buffer.from(message(text, flags)));
    if (typed.endsWith(`${master}8`)) say('User Programming Enter Code', { programming: true });
    else if (typed.endsWith('9999')) say('Invalid Code');
    else if (typed.endsWith('#')) say('****DISARMED**** Ready to Arm', { ready: true });
  });
  return { keys: () => typed };
}

function rig(master = '4821') {
  const [client, module] = memoryPair('ad2');
  const traces: string[] = [];
  const engine = new KeypadEngine(
    new FrameChannel(client, new LineDecoder()),
    adProtocol,
    { timeoutMs: 2000, trace: (d, t) => traces.push(`${d} ${t}`) },
    {
      width: 16,
      lines: 2,
    },
  );
  return { engine, traces, sim: panel(module, master) };
}

describe('keypad engine behind an AlarmDecoder-shaped protocol', () => {
  it('presses masked keys, waits for a newer display, and reads the status bits', async () => {
    const { engine, traces, sim } = rig();
    const since = engine.lcdSeq;
    await engine.press('48218', '****');
    const shown = await engine.waitDisplay((d) => (d.programming ? d : undefined), since, 'user programming');
    expect(shown.text.trim()).toBe('User Programming Enter Code');
    expect(engine.screen.lines).toEqual(['User Programming', ' Enter Code     ']);
    expect(sim.keys()).toBe('48218');
    expect(traces).toContain('tx ****8');
    expect(traces.join('\n')).not.toContain('4821');
  });

  it('a refused code is entered once; every later attempt fails at once without a key sent', async () => {
    const { engine, sim } = rig();
    const credentials = new OneShotCredentials();
    const enter = () =>
      credentials.attempt(
        async () => {
          const since = engine.lcdSeq;
          await engine.press('9999', '****');
          await engine.waitDisplay((d) => (d.programming ? true : undefined), since, 'user programming');
        },
        () => new WrongCredentialError('the panel refused the master code', { data: { secret: 'code' } }),
      );
    await expect(enter()).rejects.toMatchObject({ message: 'the panel refused the master code' });
    await expect(enter()).rejects.toMatchObject({ message: 'the panel refused the master code' });
    expect(sim.keys()).toBe('9999');
  });

  it('the menu guard takes the keypad out when an operation fails, and not when it was never in', async () => {
    const { engine, sim } = rig();
    const exits: string[] = [];
    const menus = new MenuGuard<'program'>(async (menu) => {
      exits.push(menu);
      const since = engine.lcdSeq;
      await engine.press('#', '', { useSignal: false });
      await engine.waitDisplay((d) => (d.ready ? true : undefined), since, 'the idle screen');
    });
    await expect(menus.run(async () => Promise.reject(new Error('before any key')))).rejects.toThrow('before any key');
    expect(exits).toEqual([]);
    await expect(
      menus.run(async () => {
        menus.entering('program');
        await engine.press('48218', '****');
        throw new PanelRefusedError('E_CODE_REJECTED', 'no');
      }),
    ).rejects.toMatchObject({ code: 'E_CODE_REJECTED' });
    expect(exits).toEqual(['program']);
    expect(menus.menu).toBeUndefined();
    expect(engine.display.ready).toBe(true);
    expect(sim.keys()).toBe('48218#');
  });
});
