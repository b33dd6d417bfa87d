import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, type Sandbox } from '../support/cli.js';

/** http(s) links through the real binary: read, checked, and refused where no driver can use them, before contact. */
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await makeSandbox();
});

afterAll(async () => {
  await sandbox.cleanup();
});

describe('http(s) links', () => {
  it('a byte-protocol driver on an https link: exit 2, naming its transports, before secrets or the panel', async () => {
    // No listener on port 1 and X not set: an attempt to reach either would say so instead.
    const result = await sandbox.run(['users', 'list', '--link', 'https://127.0.0.1:1', '--driver', 'integra', '--secret-from', 'env:X']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: panel "https://127.0.0.1:1" link: the integra driver talks over tcp:// or serial://, not https://');
  });

  it('probe on an http link no shipped driver speaks: exit 6, not a silent "nothing answered"', async () => {
    const result = await sandbox.run(['probe', 'http://127.0.0.1:1']);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('no driver can probe http:// links');
  });

  it('probe on an https link is tried by the drivers that speak https (map5000); nothing listening is exit 4', async () => {
    const result = await sandbox.run(['probe', 'https://127.0.0.1:1']);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/map5000\s+https:\/\/127\.0\.0\.1:1\s+error: cannot reach/);
  });

  it('an inventory panel with wrong tls settings: every problem listed, exit 2', async () => {
    await sandbox.writeInventory('panels:\n  hq:\n    driver: integra\n    link: tcp://10.0.0.9:7094\n    tls: { fingerprint: "12:34" }\n    secret: env:X\n');
    const result = await sandbox.run(['users', 'list', '--panel', 'hq']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('panel "hq", field "tls": applies to https:// links only');
    expect(result.stderr).toContain('panel "hq", field "tls.fingerprint": must be the SHA-256 fingerprint');
  });
});
