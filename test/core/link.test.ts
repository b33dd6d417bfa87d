import { describe, expect, it } from 'vitest';
import { describeLink, linkIdentity, normalFingerprint, parseLink, tlsProblems, transportOf, withTls } from '../../src/core/link.js';

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
    expect(() => parseLink('10.0.0.5')).toThrow(/must be tcp:\/\/HOST:PORT, serial:\/\/DEVICE or https:\/\/HOST/);
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

describe('http(s) links', () => {
  it('reads the host, port and base path, and shows them back', () => {
    expect(parseLink('https://10.0.0.5')).toMatchObject({ kind: 'http', secure: true, host: '10.0.0.5', port: undefined, path: '' });
    expect(parseLink('http://panel.example:8080/api/v1/')).toMatchObject({ kind: 'http', secure: false, host: 'panel.example', port: 8080, path: '/api/v1' });
    expect(parseLink('HTTPS://[fe80::1]:8443')).toMatchObject({ kind: 'http', secure: true, host: 'fe80::1', port: 8443 });
    expect(describeLink(parseLink('https://[fe80::1]:8443/rest/'))).toBe('https://[fe80::1]:8443/rest');
    expect(transportOf(parseLink('https://10.0.0.5'))).toBe('https');
    expect(transportOf(parseLink('http://10.0.0.5'))).toBe('http');
    expect(transportOf(parseLink('tcp://10.0.0.5:1'))).toBe('tcp');
  });

  it('treats the default port as the port for the work lock (one panel, one lock)', () => {
    expect(linkIdentity(parseLink('https://Panel.Example'))).toBe(linkIdentity(parseLink('https://panel.example:443/')));
    expect(linkIdentity(parseLink('http://10.0.0.5'))).not.toBe(linkIdentity(parseLink('https://10.0.0.5')));
  });

  it('names the field and the rule when wrong, and never repeats a password', () => {
    expect(() => parseLink('https://10.0.0.5/api?token=abc')).toThrow(/link: an http\(s\) link is the address and base path only: no \?query or #fragment/);
    expect(() => parseLink('https://10.0.0.5:70000')).toThrow(/link: port must be 1..65535/);
    expect(() => parseLink('https://')).toThrow(/^link: /);
    let message = '';
    try {
      parseLink('https://admin:s3cret@10.0.0.5', '--link');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^--link: must not contain a user name or password/);
    expect(message).not.toContain('s3cret');
  });
});

describe('TLS settings of a panel', () => {
  const pin = `${'AB:'.repeat(31)}AB`;
  it('takes a SHA-256 fingerprint in the usual spellings, as Node prints one', () => {
    expect(normalFingerprint(pin.toLowerCase())).toBe(pin);
    expect(normalFingerprint(`sha256:${pin.replaceAll(':', '')}`)).toBe(pin);
    expect(normalFingerprint(`SHA-256=${pin}`)).toBe(pin);
    expect(normalFingerprint('AB:CD')).toBeUndefined();
    expect(normalFingerprint('ZZ'.repeat(32))).toBeUndefined();
  });

  it('lists every problem at once: tls on a non-https link, a bad fingerprint, a certificate without its key', () => {
    expect(tlsProblems(parseLink('tcp://10.0.0.5:1'), { fingerprint: 'nope', clientCert: 'c.pem' })).toEqual([
      ['tls', 'applies to https:// links only'],
      ['tls.fingerprint', expect.stringMatching(/SHA-256 fingerprint/)],
      ['tls.clientKey', 'a client certificate needs both clientCert and clientKey'],
    ]);
    expect(() => withTls(parseLink('http://10.0.0.5'), { ca: 'ca.pem' }, 'panel "x"')).toThrow('panel "x", field "tls": applies to https:// links only');
    expect(withTls(parseLink('https://10.0.0.5'), { fingerprint: pin.toLowerCase() }, 'x')).toMatchObject({ tls: { fingerprint: pin } });
  });
});
