import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP Digest access authentication, RFC 7616, both sides: the client computes the Authorization
 * header from a 401 challenge; the simulator checks it. Written here rather than taken from npm:
 * the clients there (digest-fetch, axios-digest-auth, urllib) send the request themselves and
 * resend it after a 401 on their own, which would bypass the pacing every MAP request needs and
 * could resend a refused credential; the header arithmetic itself is a few hash lines. The
 * description says only "HTTP Digest Access Authentication" (components.securitySchemes.digest),
 * not which algorithm: SHA-256 is preferred when offered, MD5 (the RFC 2617 default) accepted.
 */

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
const ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** 'auth' when the server offers it; undefined for an RFC 2069 server that offers no qop. */
  qop?: 'auth';
  stale: boolean;
  userhash: boolean;
}

export class DigestParseError extends Error {}

interface RawChallenge {
  scheme: string;
  params: Map<string, string>;
}

/**
 * Splits WWW-Authenticate values into challenges (RFC 9110 11.6.1: a header may hold several,
 * comma-separated, and parameter values may be quoted strings holding commas).
 */
export function parseChallenges(values: readonly string[]): RawChallenge[] {
  const out: RawChallenge[] = [];
  for (const value of values) {
    if (value.length > 4096) throw new DigestParseError('WWW-Authenticate header longer than 4096 characters');
    let i = 0;
    let current: RawChallenge | undefined;
    const skip = () => {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: past the end value[i] is undefined, which no test below matches
      while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
    };
    const token = () => {
      const start = i;
      // Stryker disable next-line EqualityOperator: one step past the end reads "undefined", then stops; the slice is the same
      while (i < value.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(value[i])) i++;
      return value.slice(start, i);
    };
    for (;;) {
      skip();
      if (i >= value.length) break;
      const name = token();
      if (!name) throw new DigestParseError(`unexpected "${value[i]}" in WWW-Authenticate`);
      let j = i;
      while (value[j] === ' ' || value[j] === '\t') j++;
      if (value[j] !== '=') {
        current = { scheme: name.toLowerCase(), params: new Map() };
        out.push(current);
        continue;
      }
      i = j + 1;
      while (value[i] === ' ' || value[i] === '\t') i++;
      let param: string;
      if (value[i] === '"') {
        i++;
        param = '';
        for (;;) {
          // Stryker disable next-line EqualityOperator: one step past the end throws the same error on the next turn
          if (i >= value.length) throw new DigestParseError('unterminated quoted string in WWW-Authenticate');
          const c = value[i++];
          if (c === '"') break;
          if (c === '\\') {
            // Stryker disable next-line ConditionalExpression,EqualityOperator: without it the loop throws the same error on its next turn
            if (i >= value.length) throw new DigestParseError('unterminated quoted string in WWW-Authenticate');
            param += value[i++];
          } else param += c;
        }
      } else {
        param = token();
      }
      if (!current) throw new DigestParseError('WWW-Authenticate parameter before any scheme');
      current.params.set(name.toLowerCase(), param);
    }
  }
  return out;
}

/** The Digest challenge panelctl answers: the strongest algorithm offered with qop=auth (or no qop at all). */
export function chooseDigestChallenge(values: readonly string[]): DigestChallenge | undefined {
  const candidates: DigestChallenge[] = [];
  for (const raw of parseChallenges(values)) {
    if (raw.scheme !== 'digest') continue;
    const realm = raw.params.get('realm');
    const nonce = raw.params.get('nonce');
    if (realm === undefined || !nonce) continue;
    const algorithmText = raw.params.get('algorithm') ?? 'MD5';
    const algorithm = ALGORITHMS.find((a) => a.toLowerCase() === algorithmText.toLowerCase());
    if (!algorithm) continue;
    const qopText = raw.params.get('qop');
    const qops = qopText?.split(',').map((q) => q.trim().toLowerCase());
    // qop=auth-int only: we would have to hash bodies; no MAP source mentions it, so not offered.
    if (qops && !qops.includes('auth')) continue;
    candidates.push({
      realm,
      nonce,
      opaque: raw.params.get('opaque'),
      algorithm,
      qop: qops ? 'auth' : undefined,
      stale: raw.params.get('stale')?.toLowerCase() === 'true',
      userhash: raw.params.get('userhash')?.toLowerCase() === 'true',
    });
  }
  candidates.sort((a, b) => ALGORITHMS.indexOf(a.algorithm) - ALGORITHMS.indexOf(b.algorithm));
  return candidates[0];
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text) // a string is hashed as UTF-8
    .digest('hex');
}

export interface DigestInput {
  username: string;
  password: string;
  method: string;
  /** The request-target exactly as sent: path and query. */
  uri: string;
  /** Nonce count: 1 for the first request on a nonce, then 2, 3... */
  nc: number;
  cnonce: string;
}

/** RFC 7616 3.4.1-3.4.2: the response value. */
export function digestResponse(challenge: DigestChallenge, input: DigestInput): string {
  const { algorithm } = challenge;
  let ha1 = hash(algorithm, `${input.username}:${challenge.realm}:${input.password}`);
  if (algorithm.endsWith('-sess')) ha1 = hash(algorithm, `${ha1}:${challenge.nonce}:${input.cnonce}`);
  const ha2 = hash(algorithm, `${input.method}:${input.uri}`);
  if (!challenge.qop) return hash(algorithm, `${ha1}:${challenge.nonce}:${ha2}`);
  return hash(algorithm, `${ha1}:${challenge.nonce}:${formatNc(input.nc)}:${input.cnonce}:${challenge.qop}:${ha2}`);
}

export function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

export function newCnonce(): string {
  return randomBytes(16).toString('hex');
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The Authorization header value for one request. */
export function authorizationHeader(challenge: DigestChallenge, input: DigestInput): string {
  const username = challenge.userhash ? hash(challenge.algorithm, `${input.username}:${challenge.realm}`) : input.username;
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `uri=${quote(input.uri)}`,
    `algorithm=${challenge.algorithm}`,
    `nonce=${quote(challenge.nonce)}`,
  ];
  if (challenge.qop) parts.push(`nc=${formatNc(input.nc)}`, `cnonce=${quote(input.cnonce)}`, `qop=${challenge.qop}`);
  parts.push(`response=${quote(digestResponse(challenge, input))}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}

/** Server side (the simulator): the parameters of an Authorization: Digest header, or undefined. */
export function parseAuthorization(header: string | undefined): Map<string, string> | undefined {
  // Stryker disable next-line ConditionalExpression: an empty header parses to no challenge, the same answer
  if (!header) return undefined;
  try {
    const [challenge] = parseChallenges([header]);
    // Stryker disable next-line OptionalChaining: inside the try, no challenge throws and is caught: the same undefined
    return challenge?.scheme === 'digest' ? challenge.params : undefined;
  } catch {
    // A header that does not parse is not one to check.
  }
  return undefined;
}
