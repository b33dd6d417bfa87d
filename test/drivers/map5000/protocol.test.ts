import { describe, expect, it } from 'vitest';
import { Secret } from '../../../src/driver-kit/index.js';
import { authorizationHeader, chooseDigestChallenge, digestResponse, parseAuthorization, parseChallenges } from '../../../drivers/map5000/digest.js';
import { conflictError, credentialRefused, statusError } from '../../../drivers/map5000/failures.js';
import { maskAuthorization, maskBody, panelText } from '../../../drivers/map5000/mask.js';
import { Pacer, type Clock, realClock } from '../../../drivers/map5000/pacing.js';
import { formatUserId, isAreaPath, isWalktestPath, parseUserId, userModelPath } from '../../../drivers/map5000/paths.js';
import { SyncIdTracker, createBody, deleteBody, joinName, modifyPasscodeBody, passcodeReadBack, splitName } from '../../../drivers/map5000/usermodel.js';

describe('MAP paths and ids', () => {
  it('user ids run 4..998 and are written with three digits', () => {
    expect(formatUserId(4)).toBe('004');
    expect(formatUserId(998)).toBe('998');
    expect(() => formatUserId(3)).toThrow(RangeError);
    expect(() => formatUserId(999)).toThrow(RangeError);
    expect(userModelPath(42)).toBe('/usermodel/042');
    expect(parseUserId('004')).toBe(4);
    expect(parseUserId('003')).toBeUndefined();
    expect(parseUserId('999')).toBeUndefined();
    expect(parseUserId('4/../x')).toBeUndefined();
  });

  it('area and walk test links taken from answers cannot carry another path or a query', () => {
    expect(isAreaPath('/1.1.Area.2.2')).toBe(true);
    expect(isAreaPath('/1.1.ControlPanelArea.1.1')).toBe(true);
    expect(isAreaPath('/1.1.Area.2.2?x=1')).toBe(false);
    expect(isAreaPath('/usermodel')).toBe(false);
    expect(isWalktestPath('/walktest/9D52EB98315140069B9EC23CE431398E')).toBe(true);
    expect(isWalktestPath('/walktest/../usermodel')).toBe(false);
  });
});

describe('digest authentication (RFC 7616)', () => {
  // RFC 7616 section 3.9.1, the worked example for SHA-256 and MD5.
  const example = {
    username: 'Mufasa',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nc: 1,
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  const challenge = (algorithm: 'MD5' | 'SHA-256') => ({
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    algorithm,
    qop: 'auth' as const,
    stale: false,
    userhash: false,
  });

  it('computes the RFC 7616 example responses', () => {
    expect(digestResponse(challenge('SHA-256'), example)).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    expect(digestResponse(challenge('MD5'), example)).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('parses the RFC example challenges, prefers SHA-256 and keeps quoted commas', () => {
    const header = [
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    ];
    const chosen = chooseDigestChallenge([...header].reverse());
    expect(chosen).toMatchObject({ algorithm: 'SHA-256', qop: 'auth', realm: 'http-auth@example.org' });
    expect(parseChallenges(['Basic realm="a, b", Digest realm="x\\"y", nonce=abc'])).toHaveLength(2);
    expect(chooseDigestChallenge(['Digest realm="x\\"y", nonce=abc'])?.realm).toBe('x"y');
  });

  it('refuses challenges it cannot answer safely', () => {
    expect(chooseDigestChallenge(['Basic realm="x"'])).toBeUndefined();
    expect(chooseDigestChallenge(['Digest realm="x", nonce="n", qop="auth-int"'])).toBeUndefined();
    expect(chooseDigestChallenge(['Digest realm="x", nonce="n", algorithm=SHA-512-256'])).toBeUndefined();
    expect(() => chooseDigestChallenge(['Digest realm="x'])).toThrow(/unterminated/);
  });

  it('builds a header the server side reads back, escaping quotes in the user name', () => {
    const header = authorizationHeader(challenge('SHA-256'), { ...example, username: 'a"b\\c' });
    const params = parseAuthorization(header);
    expect(params?.get('username')).toBe('a"b\\c');
    expect(params?.get('nc')).toBe('00000001');
    expect(params?.get('opaque')).toBe('FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
    expect(header).not.toContain('Circle of Life');
  });
});

describe('userModelSyncID rule', () => {
  it('a POST needs a sync id read first, and its answer must move the id forward', () => {
    const sync = new SyncIdTracker();
    expect(() => sync.forPost()).toThrow(/read it before/);
    sync.observe(156);
    expect(sync.forPost()).toBe(156);
    sync.accept(156, 157);
    expect(sync.forPost()).toBe(157);
    // An echo of our own body carries the id we sent: not the answer to the POST.
    expect(() => sync.accept(157, 157)).toThrow(/not the answer/);
    expect(() => sync.accept(157, 12)).toThrow(/not the answer/);
  });

  it('builds create, modify (every field, new passcode) and delete bodies as the description shows them', () => {
    const code = new Secret('123456');
    expect(createBody({ slot: 8, name: 'Jan  Jansen', passcode: code, userType: 'User:Standard', accessModel: 'Basic Profile' }, 156)).toEqual({
      '@cmd': 'CREATE',
      id: '008',
      userType: 'User:Standard',
      firstName: 'Jan',
      lastName: 'Jansen',
      passcode: '123456',
      accessModel: 'Basic Profile',
      userModelSyncID: 156,
    });
    const record = {
      id: '009',
      userType: 'User:Temporary' as const,
      firstName: 'Hans',
      lastName: 'Heinrich',
      passcode: 'aa11',
      oiiPassword: 'bb22',
      smartkeyToken: 'cc33',
      language: 'nl-NL',
      encryptedSecrets: true,
      userModelSyncID: 3,
    };
    const body = modifyPasscodeBody(record, new Secret('654321'), 7);
    expect(body).toEqual({
      '@cmd': 'MODIFY',
      id: '009',
      userType: 'User:Temporary',
      firstName: 'Hans',
      lastName: 'Heinrich',
      passcode: '654321',
      language: 'nl-NL',
      encryptedSecrets: false,
      userModelSyncID: 7,
    });
    expect(modifyPasscodeBody({ ...record, encryptedSecrets: false }, new Secret('654321'), 7)).toMatchObject({ oiiPassword: 'bb22', smartkeyToken: 'cc33' });
    expect(deleteBody(9, 156)).toEqual({ '@cmd': 'DELETE', id: '009', userModelSyncID: 156 });
  });

  it('one panelctl name is firstName and lastName, joined with a space as GET /users shows it', () => {
    expect(splitName('Anna')).toEqual({ firstName: 'Anna', lastName: '' });
    expect(splitName(' Anna  Maria Kowalska ')).toEqual({ firstName: 'Anna', lastName: 'Maria Kowalska' });
    expect(joinName('Anna', '')).toBe('Anna');
    expect(joinName('Anna', 'Maria Kowalska')).toBe('Anna Maria Kowalska');
  });

  it('a passcode read back in plain text is compared; an encrypted one says it cannot tell', () => {
    const base = { id: '005', userModelSyncID: 1 };
    expect(passcodeReadBack({ ...base, passcode: '123456' }, new Secret('123456'))).toBe('match');
    expect(passcodeReadBack({ ...base, passcode: '123457' }, new Secret('123456'))).toBe('differs');
    expect(passcodeReadBack({ ...base, passcode: 'f00d', encryptedSecrets: true }, new Secret('123456'))).toBe('unreadable');
    expect(passcodeReadBack(base, new Secret('123456'))).toBe('unreadable');
  });
});

describe('what each status means', () => {
  it('403 with the licence text is exit 6 with that reason; other 403s are refusals', () => {
    const licence = statusError(403, 'License missing MUM/usermodel', 'the user change');
    expect(licence.exitCode).toBe(6);
    expect(licence.message).toContain('no MUM licence');
    expect(licence.message).toContain('License missing MUM/usermodel');
    expect(statusError(403, '', 'the user change').exitCode).toBe(3);
  });

  it('409 names the conflict: stale sync id, id in use, dependency', () => {
    expect(conflictError('{"code":"SyncError","message":"Conflict caused by: 155","target":"userModelSyncID"}', 'x')).toMatchObject({
      code: 'E_CONFLICT',
      exitCode: 3,
    });
    expect(conflictError('{"code":"AlreadyExists","target":"id"}', 'x')).toMatchObject({ code: 'E_SLOT_TAKEN' });
    expect(conflictError('{"code":"DependencyConflict"}', 'x')).toMatchObject({ code: 'E_DEPENDENCY' });
    expect(conflictError('not json', 'x')).toMatchObject({ code: 'E_CONFLICT' });
  });

  it('401: a lockout (no challenge) and a refused credential are both final, with different words', () => {
    expect(credentialRefused('u', true)).toMatchObject({ code: 'E_LOCKED_OUT', exitCode: 3 });
    expect(credentialRefused('u', false)).toMatchObject({ code: 'E_WRONG_CREDENTIAL', exitCode: 3 });
    expect(statusError(503, '', 'x')).toMatchObject({ code: 'E_BUSY', exitCode: 4 });
    expect(statusError(418, '', 'x').exitCode).toBe(5);
  });
});

describe('masking', () => {
  it('hides the three user secrets in bodies, and the digest response', () => {
    const masked = maskBody('{"id":"005","passcode":"123456","oiiPassword":"Aa1!\\"x","smartkeyToken":"AF123456","firstName":"A"}');
    expect(masked).not.toMatch(/123456|Aa1!|AF12/);
    expect(masked).toContain('"firstName":"A"');
    expect(maskAuthorization('Digest username="bob", response="abcdef"')).toBe('Digest username="bob", response=[masked]');
    expect(panelText('a\u001b[2Jb'.repeat(100))).toMatch(/^a\?\[2Jb/);
    expect(panelText('x'.repeat(500)).length).toBeLessThan(210);
  });
});

describe('pacing', () => {
  function fakeClock(): Clock & { t: number; slept: number[] } {
    const clock = {
      t: 0,
      slept: [] as number[],
      now: () => clock.t,
      sleep: async (ms: number) => {
        clock.slept.push(ms);
        clock.t += ms;
      },
    };
    return clock;
  }

  it('waits the interval from the end of the last answer, and holds off after an overload', async () => {
    const clock = fakeClock();
    const pacer = new Pacer(1000, clock);
    await pacer.next();
    clock.t += 300; // the answer took 300 ms
    pacer.done();
    await pacer.next();
    expect(clock.slept).toEqual([1000]);
    pacer.done();
    pacer.holdOff(60_000);
    await pacer.next();
    expect(clock.slept).toEqual([1000, 60_000]);
    await expect(pacer.next()).rejects.toThrow(/serial/);
  });

  it('a wait cut short by Ctrl-C or SIGTERM is the kit\'s "cancelled" (the CLI makes it exit 130 or 143), not an unexpected failure (exit 1)', async () => {
    const controller = new AbortController();
    const waiting = realClock.sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'E_ABORTED', exitCode: 4 });
    await expect(realClock.sleep(60_000, AbortSignal.abort())).rejects.toMatchObject({ code: 'E_ABORTED', exitCode: 4 });
  });
});
