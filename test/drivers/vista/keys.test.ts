import { describe, expect, it } from 'vitest';
import { Secret } from '../../../src/core/secret.js';
import { changeMasterCode, deleteUser, setUserCode, startTest, stopTest } from '../../../drivers/vista/keys.js';
import { Ad2Keypad } from '../../../drivers/vista/keypad.js';
import { isAck } from '../../../drivers/vista/panel.js';
import { memoryPair } from '../../../src/transport/memory.js';
import { formatKeypadMessage, parseLine, type KeypadMessage } from '../../../drivers/vista/messages.js';
import { Screen, displayShown, showsTest } from '../../../drivers/vista/screens.js';

const master = new Secret('4821');
const code = new Secret('7392');

describe('VISTA key sequences (README: the VISTA keypad commands)', () => {
  it('adds or changes a user: master + 8 + two-digit user + code, eleven keys, the code digits masked', () => {
    const seq = setUserCode(master, 5, code);
    expect(seq.keys).toBe('4821' + '8' + '05' + '7392');
    expect(seq.keys).toHaveLength(11);
    expect(seq.shown).toBe('****805****');
    expect(seq.what).toBe('set the code of user 05');
  });

  it('deletes with the configured ending: # 0, 0 #, or nothing (wait for the beep)', () => {
    expect(deleteUser(master, 12, '#0').keys).toBe('4821812#0');
    expect(deleteUser(master, 12, '0#').keys).toBe('48218120#');
    expect(deleteUser(master, 12, 'wait').keys).toBe('4821812');
    expect(deleteUser(master, 12, '#0').shown).toBe('****812#0');
  });

  it('changes the master code by keying the new one twice', () => {
    const seq = changeMasterCode(master, code);
    expect(seq.keys).toBe('4821802' + '7392' + '7392');
    expect(seq.shown).toBe('****802********');
  });

  it('starts the walk test with code + 5 (+ 0 at the dial-or-walk choice) and ends it with code + 1', () => {
    expect(startTest(master, true).keys).toBe('482150');
    expect(startTest(master, false).keys).toBe('48215');
    expect(stopTest(master).keys).toBe('48211');
    expect(stopTest(master).shown).toBe('****1');
  });

  it('never puts a code digit into what is shown', () => {
    for (const seq of [setUserCode(master, 3, code), changeMasterCode(master, code), deleteUser(master, 3, '#0'), startTest(master, true)]) {
      expect(seq.shown).not.toMatch(/4821|7392/);
      expect(seq.what).not.toMatch(/4821|7392/);
      expect(seq.shown).toHaveLength(seq.keys.length);
    }
  });
});

function message(fields: Parameters<typeof formatKeypadMessage>[0]): KeypadMessage {
  const line = parseLine(formatKeypadMessage(fields));
  if (line?.kind !== 'keypad') throw new Error('bad test message');
  return line.message;
}

describe('the keypad on the shared engine', () => {
  it('follows messages for its own keypad address only: display and status bits', async () => {
    const [client, peer] = memoryPair('ad2');
    const keypad = new Ad2Keypad(client, { address: 18, keyIntervalMs: 0, timeoutMs: 1000 });
    const other = formatKeypadMessage({ bits: { armedAway: true }, addresses: [20], lines: ['ARMED', 'PARTITION 2'] });
    const ours = formatKeypadMessage({ bits: { ready: true }, addresses: [18], lines: [...Screen.idle] as [string, string] });
    await peer.write(Buffer.from(`\r\n${other}\r\n${ours}\r\n`));
    const seen = await keypad.untilKeypad((m) => m);
    expect(seen.text.startsWith('****DISARMED')).toBe(true);
    expect(keypad.display).toMatchObject({ ready: true, armed: false, programming: false, testActive: false });
    expect(keypad.shown).toBe('****DISARMED**** / Ready to Arm');
    await keypad.close();
  });

  it('takes exactly one beep outside armed, programming and walk test as the acknowledgement', () => {
    const idle = [...Screen.idle] as [string, string];
    expect(isAck(message({ bits: {}, beeps: 1, addresses: [18], lines: idle }))).toBe(true);
    expect(isAck(message({ bits: {}, beeps: 3, addresses: [18], lines: idle }))).toBe(false); // chime
    expect(isAck(message({ bits: {}, beeps: 0, addresses: [18], lines: idle }))).toBe(false);
    expect(isAck(message({ bits: { armedAway: true }, beeps: 1, addresses: [18], lines: idle }))).toBe(false);
    expect(isAck(message({ bits: { programming: true }, beeps: 1, addresses: [18], lines: idle }))).toBe(false);
    expect(isAck(message({ bits: {}, beeps: 1, addresses: [18], lines: [...Screen.test] as [string, string] }))).toBe(false);
  });

  it('recognises the walk test display of each VISTA family and masks digit runs in what it shows', () => {
    expect(showsTest('TEST IN PROGRESS                ')).toBe(true);
    expect(showsTest('Burg Walk Test  in Progress     ')).toBe(true);
    expect(showsTest('****DISARMED****  Ready to Arm  ')).toBe(false);
    expect(displayShown('CODE 4821       ENTERED 12      ')).toBe('CODE **** / ENTERED 12');
  });
});
