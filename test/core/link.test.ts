import { describe, expect, it } from 'vitest';
import { parseLink } from '../../src/core/link.js';

describe('parseLink', () => {
  it('reads tcp links with and without a port', () => {
    expect(parseLink('tcp://10.20.0.15:7094')).toMatchObject({ kind: 'tcp', host: '10.20.0.15', port: 7094 });
    expect(parseLink('tcp://panel.example')).toMatchObject({ kind: 'tcp', host: 'panel.example', port: undefined });
    expect(parseLink('tcp://[::1]:4025')).toMatchObject({ kind: 'tcp', host: '::1', port: 4025 });
  });

  it('reads serial links with line settings, and bare device names', () => {
    expect(parseLink('serial:///dev/ttyUSB0?baud=19200&parity=none&stopbits=1')).toMatchObject({
      kind: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 19200,
      parity: 'none',
      stopBits: 1,
    });
    expect(parseLink('serial://COM3?baud=9600&parity=even')).toMatchObject({ kind: 'serial', path: 'COM3', baudRate: 9600, parity: 'even' });
    expect(parseLink('COM3')).toMatchObject({ kind: 'serial', path: 'COM3' });
    expect(parseLink('/dev/ttyACM0')).toMatchObject({ kind: 'serial', path: '/dev/ttyACM0' });
  });

  it('names the field and the rule when wrong', () => {
    expect(() => parseLink('udp://x:1')).toThrow(/link: unknown scheme "udp"/);
    expect(() => parseLink('tcp://host:99999')).toThrow(/port/);
    expect(() => parseLink('serial:///dev/ttyS0?parity=mark')).toThrow(/link.parity: must be none, even or odd/);
    expect(() => parseLink('serial:///dev/ttyS0?speed=9600')).toThrow(/link.speed: unknown serial option/);
    expect(() => parseLink('10.0.0.5')).toThrow(/must be tcp:\/\/HOST:PORT/);
  });

  it('refuses a user name or password in a link without repeating it', () => {
    for (const link of ['tcp://admin:s3cret@10.0.0.5:7094', 'tcp://s3cret@10.0.0.5', 'admin:s3cret@10.0.0.5:7094']) {
      let message = '';
      try {
        parseLink(link, '--link');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^--link: must/);
      expect(message).not.toContain('s3cret');
      expect(message).not.toContain('admin');
    }
  });

  it('refuses control characters and spaces in a link (it is shown and audited)', () => {
    expect(() => parseLink('tcp://10.0.0.5:7094\x1b[2J')).toThrow(/control characters/);
    expect(() => parseLink('serial:///dev/tty USB0')).toThrow(/spaces/);
  });
});
