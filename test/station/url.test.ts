import { describe, expect, it } from 'vitest';
import { checkWebhookUrl } from '../../src/station/url.js';
import { stationEnv } from '../../src/station/command.js';

describe('checkWebhookUrl', () => {
  it('accepts https anywhere and http only to loopback', () => {
    for (const ok of ['https://station.example.com/n', 'http://127.0.0.1:8080/n', 'http://127.8.9.10/n', 'http://localhost/n', 'http://[::1]:9/n']) {
      expect(checkWebhookUrl(ok), ok).toBeUndefined();
    }
  });

  it('refuses plain http elsewhere unless insecure, and every other scheme', () => {
    expect(checkWebhookUrl('http://10.0.0.5/n')).toMatch(/http:\/\/ only to a loopback address, or with insecure: true/);
    expect(checkWebhookUrl('http://10.0.0.5/n', true)).toBeUndefined();
    expect(checkWebhookUrl('http://127.0.0.1.evil.example/n')).toMatch(/must be https/);
    for (const bad of ['file:///etc/passwd', 'ftp://x/y', 'data:text/plain,hi', 'not a url']) expect(checkWebhookUrl(bad, true), bad).toMatch(/https:\/\//);
    expect(checkWebhookUrl('https://user:pw@station.example.com/')).toMatch(/must not carry a user or password/);
  });
});

describe('stationEnv', () => {
  it('passes the base variables and the named ones, nothing else', () => {
    const env = stationEnv('test.stop', ['SITE'], { PATH: '/bin', HOME: '/h', SITE: 's', SHOP_CODE: '1111', STATION_KEY: 'k' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', SITE: 's', PANELCTL_STATION_EVENT: 'test.stop' });
  });
});
