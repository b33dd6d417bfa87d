import { describe, expect, it } from 'vitest';
import { Secret, quietLeft, sinceLastContact } from '../../../src/driver-kit/index.js';
import { type HttpSend, MapClient } from '../../../drivers/map5000/client.js';
import { Pacer } from '../../../drivers/map5000/pacing.js';
import { descAnswer, syncIdAnswer, usersAnswer } from '../../../drivers/map5000/schemas.js';
import { SETTINGS, fakeClock, modelLink } from './support.js';

function clientFor(send: HttpSend, clock = fakeClock(), password = SETTINGS.password, intervalMs = 1000) {
  const trace: string[] = [];
  const client = new MapClient({
    send,
    pacer: new Pacer(intervalMs, clock),
    username: SETTINGS.username,
    password: new Secret(password, 'REST-API password'),
    overloadBackoffMs: 60_000,
    trace: (direction, text) => trace.push(`${direction} ${text}`),
  });
  return { client, trace };
}

describe('MapClient against the simulator model', () => {
  it('answers the digest challenge once, then reuses the nonce with a rising count', async () => {
    const link = modelLink();
    const { client, trace } = clientFor(link.send, link.clock);
    const desc = await client.json('GET', '/desc', descAnswer, 'the panel description');
    expect(desc.modelName).toBe('MAP5000');
    await client.json('GET', '/users', usersAnswer, 'the user list');
    expect(link.sent.map((r) => Boolean(r.headers.authorization))).toEqual([false, true, true]);
    expect(link.model.log.map((e) => e.status)).toEqual([401, 200, 200]);
    expect(trace.join('\n')).not.toContain(SETTINGS.password);
    expect(trace.join('\n')).toContain('response=[masked]');
  });

  it('keeps at least the interval between an answer and the next request (the panel refuses faster ones)', async () => {
    const link = modelLink();
    const { client } = clientFor(link.send, link.clock);
    await client.json('GET', '/desc', descAnswer, 'd');
    await client.json('GET', '/desc', descAnswer, 'd');
    const times = link.model.log.map((e) => e.at);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(1000);
    expect(link.model.log.every((e) => e.status !== 503)).toBe(true);
  });

  it("a new session waits out the interval after the previous session's last answer (another process), never longer", async () => {
    const link = modelLink();
    await clientFor(link.send, link.clock).client.json('GET', '/desc', descAnswer, 'd');
    const lastAnswer = link.clock.t;
    // The next process starts 300 ms later and is told when the panel last answered.
    link.clock.t += 300;
    const pacer = new Pacer(1000, link.clock);
    pacer.answeredAgo(sinceLastContact(Date.now() - 300, Date.now()) as number);
    const next = new MapClient({ send: link.send, pacer, username: SETTINGS.username, password: new Secret(SETTINGS.password, 'p') });
    await next.json('GET', '/desc', descAnswer, 'd');
    expect(link.model.log.map((e) => e.status)).toEqual([401, 200, 401, 200]);
    expect(link.model.log[2].at).toBe(lastAnswer + 1000);
    // A recorded time in the future (the wall clock was stepped back) is "just now": one interval, not more.
    expect(sinceLastContact(Date.now() + 3_600_000)).toBe(0);
    expect(sinceLastContact(undefined)).toBeUndefined();
    const ahead = new Pacer(1000, link.clock);
    ahead.answeredAgo(0);
    const before = link.clock.t;
    await ahead.next();
    expect(link.clock.t - before).toBe(1000);
  });

  it('a client faster than the panel allows gets 503, backs off and succeeds (bounded)', async () => {
    const link = modelLink();
    const { client } = clientFor(link.send, link.clock, SETTINGS.password, 100);
    await client.json('GET', '/desc', descAnswer, 'd');
    await client.json('GET', '/desc', descAnswer, 'd');
    const statuses = link.model.log.map((e) => e.status);
    expect(statuses).toContain(503);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.length).toBeLessThanOrEqual(6);
  });

  it('503 is retried at most twice, a minute apart, then reported as busy (exit 4)', async () => {
    const link = modelLink({}, { busyReplies: 10 });
    const { client } = clientFor(link.send, link.clock);
    const start = link.clock.t;
    await expect(client.json('GET', '/desc', descAnswer, 'the panel description')).rejects.toMatchObject({ code: 'E_BUSY', exitCode: 4 });
    expect(link.sent).toHaveLength(3);
    expect(link.clock.t - start).toBeGreaterThanOrEqual(120_000);
  });

  it('the last 503, the one not retried, still starts the back-off; the next session waits out the rest of it before its first request', async () => {
    const link = modelLink({}, { busyReplies: 3 });
    const pacer = new Pacer(1000, link.clock);
    const client = new MapClient({
      send: link.send,
      pacer,
      username: SETTINGS.username,
      password: new Secret(SETTINGS.password, 'p'),
      overloadBackoffMs: 60_000,
    });
    await expect(client.json('GET', '/desc', descAnswer, 'd')).rejects.toMatchObject({ code: 'E_BUSY' });
    const lastAnswer = link.clock.t;
    // What the session reports at its end (PanelSession.quietUntil): the whole minute after the last 503.
    expect(pacer.heldFor()).toBe(60_000);
    // The next process starts 5 s later, told that the panel must be left alone until then.
    link.clock.t += 5_000;
    const quietUntil = Date.now() + 55_000;
    const next = new Pacer(1000, link.clock);
    next.answeredAgo(5_000);
    next.holdOff(quietLeft(quietUntil, 60_000) as number);
    const after = new MapClient({ send: link.send, pacer: next, username: SETTINGS.username, password: new Secret(SETTINGS.password, 'p') });
    await after.json('GET', '/desc', descAnswer, 'd');
    expect(link.model.log.map((e) => e.status)).toEqual([503, 503, 503, 401, 200]);
    expect(link.model.log[3].at - lastAnswer).toBeGreaterThanOrEqual(59_990);
    // Once a request has gone out after it, no back-off runs: nothing to hand on.
    expect(next.heldFor()).toBeUndefined();
  });

  it('quietLeft: the rest of a recorded silence, none when over or garbled, never longer than the silence the driver keeps', () => {
    const now = 1_700_000_000_000;
    expect(quietLeft(now + 20_000, 60_000, now)).toBe(20_000);
    expect(quietLeft(now, 60_000, now)).toBeUndefined();
    expect(quietLeft(now - 1, 60_000, now)).toBeUndefined();
    expect(quietLeft(undefined, 60_000, now)).toBeUndefined();
    expect(quietLeft(Number.NaN, 60_000, now)).toBeUndefined();
    // A clock stepped back (or a record from a panel configured for longer): one back-off at most.
    expect(quietLeft(now + 3_600_000, 60_000, now)).toBe(60_000);
    expect(quietLeft(now + 3_600_000, 0, now)).toBe(0);
  });

  it('a refused credential is sent once and never again in the session', async () => {
    const link = modelLink();
    const { client } = clientFor(link.send, link.clock, 'wrong-password');
    await expect(client.json('GET', '/desc', descAnswer, 'd')).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL', exitCode: 3 });
    const sentBefore = link.sent.length;
    expect(link.sent.filter((r) => r.headers.authorization)).toHaveLength(1);
    await expect(client.json('GET', '/users', usersAnswer, 'u')).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
    expect(link.sent).toHaveLength(sentBefore);
  });

  it('the tamper lockout (401 without a challenge) stops at once and says so', async () => {
    const link = modelLink({}, { lockedOut: true });
    const { client } = clientFor(link.send, link.clock);
    await expect(client.json('GET', '/desc', descAnswer, 'd')).rejects.toMatchObject({ code: 'E_LOCKED_OUT', exitCode: 3 });
    expect(link.sent).toHaveLength(1);
  });

  it('three wrong digests from one address start the lockout in the model', async () => {
    const link = modelLink({ tamperLockoutMs: 600_000 });
    for (let i = 0; i < 3; i++) {
      const { client } = clientFor(link.send, link.clock, 'wrong-password');
      await expect(client.json('GET', '/desc', descAnswer, 'd')).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
    }
    const { client } = clientFor(link.send, link.clock);
    await expect(client.json('GET', '/desc', descAnswer, 'd')).rejects.toMatchObject({ code: 'E_LOCKED_OUT' });
  });

  it('an answer that is not the answer to the question is a protocol error (echo, other shape, not JSON)', async () => {
    const echo: HttpSend = async (request) =>
      request.headers.authorization
        ? { status: 201, headers: {}, body: request.body ?? '' }
        : { status: 401, headers: { 'www-authenticate': 'Digest realm="r", nonce="n", qop="auth"' }, body: '' };
    const { client } = clientFor(echo);
    const body = { '@cmd': 'DELETE', id: '005', userModelSyncID: 7 };
    // The echo parses as a sync id answer; the driver's SyncIdTracker then refuses it (protocol.test.ts).
    const answer = await client.json('POST', '/usermodel', syncIdAnswer, 'the user change', body, [201]);
    expect(answer.userModelSyncID).toBe(7);
    await expect(client.json('POST', '/usermodel', usersAnswer, 'the user list', body, [201])).rejects.toMatchObject({ exitCode: 5 });
    const html: HttpSend = async () => ({ status: 200, headers: {}, body: '<html>router login</html>' });
    await expect(clientFor(html).client.json('GET', '/users', usersAnswer, 'the user list')).rejects.toThrow(/not JSON/);
  });

  it('a stale nonce is answered once with the new nonce; a second 401 is final', async () => {
    let calls = 0;
    const stale: HttpSend = async (request) => {
      calls++;
      if (!request.headers.authorization) return { status: 401, headers: { 'www-authenticate': 'Digest realm="r", nonce="n1", qop="auth"' }, body: '' };
      if (calls === 2) return { status: 401, headers: { 'www-authenticate': 'Digest realm="r", nonce="n2", qop="auth", stale=true' }, body: '' };
      if (calls === 3) return { status: 200, headers: {}, body: '{"modelName":"MAP5000"}' };
      return { status: 401, headers: { 'www-authenticate': 'Digest realm="r", nonce="n3", qop="auth", stale=true' }, body: '' };
    };
    const { client } = clientFor(stale);
    await expect(client.json('GET', '/desc', descAnswer, 'd')).resolves.toMatchObject({ modelName: 'MAP5000' });
    await expect(client.json('GET', '/desc', descAnswer, 'd')).rejects.toMatchObject({ code: 'E_WRONG_CREDENTIAL' });
  });
});
