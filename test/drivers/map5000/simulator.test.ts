import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, DEMO_PASSWORD, DEMO_USER } from '../../../drivers/map5000/simulator.js';

function get(url: string): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { rejectUnauthorized: false, checkServerIdentity: () => undefined }, (response) => {
      const seen = (response.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, fingerprint: seen }));
    });
    request.on('error', reject);
  });
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('MAP 5000 simulator over HTTPS', () => {
  it('serves TLS on loopback with its own certificate made at start, and asks for digest credentials', async () => {
    const sim = await createSimulator({ users: 3 });
    const endpoint = await sim.listen('127.0.0.1', 0);
    cleanups.push(() => sim.close());
    expect(endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const answer = await get(`${endpoint.url}/desc`);
    expect(answer.fingerprint).toBe(endpoint.fingerprint);
    expect(answer.status).toBe(401);
    expect(sim.demoSecrets()).toEqual({ password: DEMO_PASSWORD });
    expect(DEMO_USER.length).toBeGreaterThanOrEqual(8);
    // Two simulators never share a key: a pin taken from one is refused by the other.
    const other = await createSimulator({ users: 1 });
    const otherEndpoint = await other.listen('127.0.0.1', 0);
    cleanups.push(() => other.close());
    expect(otherEndpoint.fingerprint).not.toBe(endpoint.fingerprint);
  });

  it('keeps its state as JSON, saved on every change and loaded at the next start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'map-sim-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const statePath = path.join(dir, 'map.json');
    const sim = await createSimulator({ statePath, users: 2 });
    sim.model.state.users['077'] = { ...sim.model.state.users['005'], firstName: 'Saved' };
    await sim.close();
    const saved = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    expect(saved.format).toBe('panelctl-map5000-sim/1');
    expect((fs.statSync(statePath).mode & 0o777).toString(8)).toBe('600');
    const again = await createSimulator({ statePath, users: 9 });
    expect(again.model.state.users['077'].firstName).toBe('Saved');
    expect(Object.keys(again.model.state.users)).toHaveLength(3);
  });
});
