import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  chooseDigestChallenge,
  type DigestChallenge,
  digestResponse,
  formatNc,
  newCnonce,
  parseAuthorization,
  parseChallenges,
} from '../../../drivers/map5000/digest.js';

// RFC 7616 digest, edge by edge: protocol.test.ts checks the worked examples; here each rule of the header grammar
// (RFC 9110 11.2-11.6) and each choice panelctl makes among challenges is pinned on its own, so a rule that silently
// stops holding shows (issue 21 mutation floor).

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const params = (value: string) => Object.fromEntries(parseChallenges([value])[0]?.params ?? []);

describe('WWW-Authenticate grammar', () => {
  it('takes a header of exactly 4096 characters and refuses a longer one', () => {
    const fill = (n: number) => `Digest realm="${'r'.repeat(n - 'Digest realm=""'.length)}"`;
    expect(fill(4096)).toHaveLength(4096);
    expect(parseChallenges([fill(4096)])).toHaveLength(1);
    expect(() => parseChallenges([fill(4097)])).toThrow(/longer than 4096/);
  });

  it('skips spaces, tabs and empty list elements between challenges and parameters', () => {
    const [challenge] = parseChallenges([' ,\t, Digest ,\trealm="a" ,, \t nonce=n1 , ']);
    expect(challenge.scheme).toBe('digest');
    expect(Object.fromEntries(challenge.params)).toEqual({ realm: 'a', nonce: 'n1' });
  });

  it('allows spaces and tabs around "=" (bad whitespace), and lower-cases scheme and parameter names', () => {
    expect(parseChallenges(['DIGEST Realm \t= \t"a", NONCE=b'])[0]).toEqual({
      scheme: 'digest',
      params: new Map([
        ['realm', 'a'],
        ['nonce', 'b'],
      ]),
    });
  });

  it('reads every token character of RFC 9110 in a bare value, and stops at the first other one', () => {
    expect(params("Digest nonce=!#$%&'*+-.^_`|~09azAZ")).toEqual({ nonce: "!#$%&'*+-.^_`|~09azAZ" });
    expect(() => parseChallenges(['Digest nonce=ab/cd'])).toThrow(/unexpected "\/"/);
  });

  it('names the character it cannot read where a name should be', () => {
    expect(() => parseChallenges(['Digest realm="x", @'])).toThrow('unexpected "@" in WWW-Authenticate');
  });

  it('reads quoted values with escaped quotes and backslashes, commas and spaces kept', () => {
    expect(params('Digest realm="a \\"b\\", \\\\c", nonce="x,y z"')).toEqual({ realm: 'a "b", \\c', nonce: 'x,y z' });
    expect(params('Digest realm=""')).toEqual({ realm: '' });
  });

  it('refuses a quoted value that is not closed, also when the header ends in a backslash', () => {
    expect(() => parseChallenges(['Digest realm="abc'])).toThrow('unterminated quoted string in WWW-Authenticate');
    expect(() => parseChallenges(['Digest realm="abc\\'])).toThrow('unterminated quoted string in WWW-Authenticate');
  });

  it('refuses a parameter before any scheme', () => {
    expect(() => parseChallenges(['realm="x"'])).toThrow('WWW-Authenticate parameter before any scheme');
  });

  it('splits several challenges of one header and of several headers, in order', () => {
    expect(parseChallenges(['Basic realm="a", Digest nonce=n', 'Bearer']).map((c) => c.scheme)).toEqual(['basic', 'digest', 'bearer']);
    expect(parseChallenges([])).toEqual([]);
  });
});

describe('choosing the challenge to answer', () => {
  const offer = (extra: string) => `Digest realm="r", nonce="n"${extra}`;

  it('reads an RFC 2617 challenge without algorithm as MD5, and one without qop as RFC 2069 (no qop)', () => {
    expect(chooseDigestChallenge([offer('')])).toEqual({
      realm: 'r',
      nonce: 'n',
      opaque: undefined,
      algorithm: 'MD5',
      qop: undefined,
      stale: false,
      userhash: false,
    });
  });

  it('matches algorithm names and flags whatever their case, and keeps the opaque value', () => {
    expect(chooseDigestChallenge([offer(', algorithm=sha-256-SESS, qop="AUTH", stale=TRUE, userhash=True, opaque="o"')])).toEqual({
      realm: 'r',
      nonce: 'n',
      opaque: 'o',
      algorithm: 'SHA-256-sess',
      qop: 'auth',
      stale: true,
      userhash: true,
    });
    expect(chooseDigestChallenge([offer(', stale=false, userhash=no')])).toMatchObject({ stale: false, userhash: false });
  });

  it('finds auth in a qop list with spaces around its items', () => {
    expect(chooseDigestChallenge([offer(', qop="auth-int ,  auth "')])?.qop).toBe('auth');
    expect(chooseDigestChallenge([offer(', qop="auth-int,authx"')])).toBeUndefined();
  });

  it('skips a challenge without realm or with an empty or missing nonce, and other schemes, but takes an empty realm', () => {
    expect(chooseDigestChallenge(['Digest nonce="n"'])).toBeUndefined();
    expect(chooseDigestChallenge(['Digest realm="r", nonce=""'])).toBeUndefined();
    expect(chooseDigestChallenge(['Digest realm="r"'])).toBeUndefined();
    expect(chooseDigestChallenge(['Basic realm="r", nonce="n"'])).toBeUndefined();
    expect(chooseDigestChallenge(['Digest realm="", nonce="n"'])?.realm).toBe('');
  });

  it('prefers SHA-256, then SHA-256-sess, then MD5, then MD5-sess, whatever order they come in', () => {
    const all = ['MD5-sess', 'MD5', 'SHA-256-sess', 'SHA-256'].map((a) => offer(`, algorithm=${a}`));
    expect(chooseDigestChallenge(all)?.algorithm).toBe('SHA-256');
    expect(chooseDigestChallenge(all.slice(0, 3))?.algorithm).toBe('SHA-256-sess');
    expect(chooseDigestChallenge(all.slice(0, 2))?.algorithm).toBe('MD5');
    expect(chooseDigestChallenge([...all.slice(0, 2)].reverse())?.algorithm).toBe('MD5');
    expect(chooseDigestChallenge(all.slice(0, 1))?.algorithm).toBe('MD5-sess');
    // An unknown algorithm next to a known one: the known one is answered.
    expect(chooseDigestChallenge([offer(', algorithm=SHA-512-256'), offer(', algorithm=MD5')])?.algorithm).toBe('MD5');
  });
});

describe('the response value', () => {
  const input = { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: '0a4f113b' };
  const base: DigestChallenge = { realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', algorithm: 'MD5', stale: false, userhash: false };

  it('is the RFC 2617 3.5 example with qop=auth', () => {
    expect(digestResponse({ ...base, qop: 'auth' }, input)).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('is H(HA1:nonce:HA2) for a server that offers no qop (RFC 2069)', () => {
    const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
    const ha2 = md5('GET:/dir/index.html');
    expect(digestResponse(base, input)).toBe(md5(`${ha1}:${base.nonce}:${ha2}`));
  });

  it('hashes HA1 again with nonce and cnonce for the -sess algorithms (RFC 7616 3.4.2), with the right hash', () => {
    const check = (algorithm: 'MD5-sess' | 'SHA-256-sess', h: (text: string) => string) => {
      const ha1 = h(`${h('Mufasa:testrealm@host.com:Circle Of Life')}:${base.nonce}:0a4f113b`);
      const ha2 = h('POST:/x');
      expect(digestResponse({ ...base, algorithm, qop: 'auth' }, { ...input, method: 'POST', uri: '/x', nc: 26 })).toBe(
        h(`${ha1}:${base.nonce}:0000001a:0a4f113b:auth:${ha2}`),
      );
    };
    check('MD5-sess', md5);
    check('SHA-256-sess', sha256);
  });

  it('writes the nonce count as eight lower-case hex digits', () => {
    expect(formatNc(1)).toBe('00000001');
    expect(formatNc(0xabc)).toBe('00000abc');
    expect(formatNc(0xffffffff)).toBe('ffffffff');
  });

  it('makes a fresh 128-bit client nonce each time', () => {
    const a = newCnonce();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newCnonce()).not.toBe(a);
  });
});

describe('the Authorization header', () => {
  const input = { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv' };
  const challenge: DigestChallenge = {
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    algorithm: 'SHA-256',
    qop: 'auth',
    stale: false,
    userhash: false,
  };

  it('lists the parameters in the order of the RFC 7616 3.9.1 example', () => {
    expect(authorizationHeader(challenge, input)).toBe(
      `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv", qop=auth, response="${digestResponse(challenge, input)}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
    );
  });

  it('leaves out nc, cnonce and qop without qop, and opaque when the server sent none', () => {
    const plain = { ...challenge, qop: undefined, opaque: undefined, algorithm: 'MD5' as const };
    expect(authorizationHeader(plain, input)).toBe(
      `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv", response="${digestResponse(plain, input)}"`,
    );
    expect(authorizationHeader({ ...challenge, opaque: '' }, input)).toMatch(/, opaque=""$/);
  });

  it('sends the hashed user name and userhash=true when the server asks for it (RFC 7616 3.4.4)', () => {
    const header = authorizationHeader({ ...challenge, userhash: true }, input);
    expect(header).toContain(`username="${sha256('Mufasa:http-auth@example.org')}"`);
    expect(header).not.toContain('Mufasa');
    expect(header.endsWith(', userhash=true')).toBe(true);
  });

  it('escapes backslashes and quotes in quoted values', () => {
    expect(authorizationHeader(challenge, { ...input, username: 'a\\"b' })).toContain('username="a\\\\\\"b"');
  });
});

describe('the simulator reading an Authorization header', () => {
  it('gives the parameters of a Digest header only', () => {
    expect(Object.fromEntries(parseAuthorization('Digest username="u", nc=00000001') ?? [])).toEqual({ username: 'u', nc: '00000001' });
    expect(parseAuthorization(undefined)).toBeUndefined();
    expect(parseAuthorization('')).toBeUndefined();
    expect(parseAuthorization('Basic dTpw')).toBeUndefined();
    expect(parseAuthorization('Digest username="u')).toBeUndefined();
    expect(parseAuthorization(',')).toBeUndefined();
  });
});
