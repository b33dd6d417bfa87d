import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesOf, Secret } from '../../../src/driver-kit/index.js';
import { driver } from '../../../drivers/map5000/driver.js';
import { type MapEndpoint, type MapSimulator, createSimulator, DEMO_PASSWORD, DEMO_USER } from '../../../drivers/map5000/simulator.js';

let sim: MapSimulator;
let endpoint: MapEndpoint;

beforeAll(async () => {
  sim = await createSimulator({ users: 2, options: { intervalMs: 50 } });
  endpoint = await sim.listen('127.0.0.1', 0);
});
afterAll(async () => {
  await endpoint.close();
  await sim.close();
});

const open = (options: Record<string, string | number | boolean | undefined>) =>
  driver.open({ link: endpoint.link, secrets: { password: new Secret(DEMO_PASSWORD, 'password') }, options, timeoutMs: 5000 });

describe('map5000 driver', () => {
  it('declares what its sessions offer, and a session offers exactly that', async () => {
    const info = driver.describe();
    expect(info.transports).toEqual(['https']);
    expect(capabilitiesOf(info.facets)).toEqual(
      expect.arrayContaining(['users.list', 'users.add', 'users.next-slot', 'users.verify-code', 'test-mode', 'probe']),
    );
    const session = await open({ user: DEMO_USER, requestIntervalMs: 60 });
    expect(Boolean(session.writer)).toBe(Boolean(info.facets.writer));
    expect(Boolean(session.reader)).toBe(info.facets.reader);
    expect(Boolean(session.codeChecker)).toBe(info.facets.codeChecker);
    expect(Boolean(session.testMode)).toBe(info.facets.testMode);
    await session.close();
  });

  it('opened within the silence a previous session ended in: says so with its own back-off as the longest wait, and hands the rest on', async () => {
    const told: Array<{ until: number; why: string }> = [];
    const openQuiet = (quietUntil: number) =>
      driver.open({
        link: endpoint.link,
        secrets: { password: new Secret(DEMO_PASSWORD, 'password') },
        options: { user: DEMO_USER, requestIntervalMs: 60, overloadBackoffMs: 1500 },
        timeoutMs: 5000,
        quietUntil,
        onQuiet: (quiet) => told.push(quiet),
      });
    // A record an hour ahead (a clock stepped back) is one back-off of this panel's, at most.
    const before = Date.now();
    const session = await openQuiet(before + 3_600_000);
    expect(told).toEqual([{ until: expect.any(Number), why: 'asked for 1.5 s without requests after an overload' }]);
    expect(told[0].until).toBeLessThanOrEqual(Date.now() + 1500);
    expect(told[0].until).toBeGreaterThan(before);
    // Closed before any request: the silence still runs, and the next session is told the rest.
    await session.close();
    expect(session.quietUntil?.()).toBeGreaterThan(Date.now());
    expect(session.lastContactAt?.()).toBeUndefined();
    // A silence already over: nothing to say, nothing to wait.
    const after = await openQuiet(Date.now() - 1);
    expect(told).toHaveLength(1);
    expect(after.quietUntil?.()).toBeUndefined();
    await after.close();
  });

  it('refuses bad options before contacting the panel, naming the field and the rule', async () => {
    const before = sim.model.log.length;
    await expect(open({ user: 'short' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('options.user') });
    await expect(open({ user: DEMO_USER, areas: '/usermodel' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('options.areas') });
    await expect(open({ user: DEMO_USER, maxUsers: 3 })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/options\.maxUsers: unknown option/),
    });
    expect(sim.model.log.length).toBe(before);
  });

  it('probe: GET /desc without credentials is answered with a digest challenge, as a MAP does', async () => {
    await new Promise((resolve) => setTimeout(resolve, 60));
    const found = await driver.probe?.(endpoint.link, { timeoutMs: 5000 });
    expect(found).toMatchObject({ driver: 'map5000' });
  });
});
