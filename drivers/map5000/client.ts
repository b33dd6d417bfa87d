import type * as z from 'zod';
import { ProtocolError, type Secret } from '../../src/driver-kit/index.js';
import { type DigestChallenge, authorizationHeader, chooseDigestChallenge, DigestParseError, newCnonce } from './digest.js';
import { credentialRefused, statusError } from './failures.js';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, OVERLOAD_BACKOFF_MS, OVERLOAD_RETRIES } from './limits.js';
import { maskAuthorization, maskBody } from './mask.js';
import type { Pacer } from './pacing.js';

/**
 * One MAP panel's REST API, spoken the way its description asks: one request at a time, paced,
 * digest-authenticated, every answer checked against the shape of the answer to the question asked.
 * The bytes go through `send` (the kit's HTTPS client, or a test double): this module knows HTTP
 * semantics and the MAP's rules, not sockets.
 */

export type Method = 'GET' | 'POST' | 'DELETE';

export interface HttpRequest {
  method: Method;
  /** Path and query, starting with '/'. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one request and reads the whole answer (at most maxBytes); throws the kit's typed errors for TLS/link failures. */
export type HttpSend = (request: HttpRequest, options: { maxBytes: number; signal?: AbortSignal }) => Promise<HttpResponse>;

export interface MapClientOptions {
  send: HttpSend;
  pacer: Pacer;
  username: string;
  password: Secret;
  signal?: AbortSignal;
  overloadBackoffMs?: number;
  overloadRetries?: number;
  trace?: (direction: 'tx' | 'rx', text: string) => void;
}

export interface Answer {
  status: number;
  body: string;
}

export class MapClient {
  private challenge: DigestChallenge | undefined;
  private nc = 0;
  private cnonce = newCnonce();
  /** Set once the panel refused the credential: nothing more is sent in this session. */
  private refusal: Error | undefined;
  /** Requests sent, 401 challenges and 503 retries included (for measurements). */
  requests = 0;

  constructor(private readonly options: MapClientOptions) {}

  /**
   * Sends one request and returns the answer when its status is one of `accept`; any other status
   * becomes the typed error for it. Handles the digest challenge (one resend with credentials, one
   * more only when the server says the nonce was stale) and 503 (bounded waits and resends).
   */
  async exchange(method: Method, path: string, accept: readonly number[], what: string, body?: unknown): Promise<Answer> {
    if (this.refusal) throw this.refusal;
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined && Buffer.byteLength(text) > MAX_REQUEST_BYTES) {
      throw new ProtocolError(`the request to ${what} would be ${Buffer.byteLength(text)} bytes; the panel takes at most ${MAX_REQUEST_BYTES}`);
    }
    const retries = this.options.overloadRetries ?? OVERLOAD_RETRIES;
    let overloads = 0;
    let staleResends = 0;
    for (;;) {
      const authorization = this.challenge ? this.authorize(method, path) : undefined;
      const response = await this.sendOnce({ method, path, headers: this.headers(authorization, text), body: text });
      if (response.status === 401) {
        const challenge = this.readChallenge(response);
        // No challenge at all: the panel refuses this address outright (tamper lockout) or the credential.
        if (!challenge) throw this.refuse(credentialRefused(this.options.username, !authorization));
        // Credentials sent and refused: never sent again, unless the server says only the nonce was stale (RFC 7616 3.3).
        if (authorization && !(challenge.stale && staleResends++ === 0)) throw this.refuse(credentialRefused(this.options.username, false));
        this.useChallenge(challenge);
        continue;
      }
      if (response.status === 503) {
        // "Negative response codes caused by overload require a 60 seconds communication delay": the last
        // 503 too, which ends the session; the next session is told the rest of it (PanelSession.quietUntil).
        this.options.pacer.holdOff(this.options.overloadBackoffMs ?? OVERLOAD_BACKOFF_MS);
        if (overloads < retries) {
          overloads++;
          continue;
        }
      }
      if (accept.includes(response.status)) return { status: response.status, body: response.body };
      throw statusError(response.status, response.body, what);
    }
  }

  /** exchange() for a JSON answer, checked with `schema`. */
  async json<T>(method: Method, path: string, schema: z.ZodType<T>, what: string, body?: unknown, accept: readonly number[] = [200]): Promise<T> {
    const answer = await this.exchange(method, path, accept, what, body);
    return parseAnswer(answer.body, schema, what);
  }

  private async sendOnce(request: HttpRequest): Promise<HttpResponse> {
    const { pacer, trace, signal } = this.options;
    await pacer.next(signal);
    this.requests++;
    trace?.(
      'tx',
      `${request.method} ${request.path}${request.headers.authorization ? ` [${maskAuthorization(request.headers.authorization)}]` : ''}${request.body ? ` ${maskBody(request.body)}` : ''}`,
    );
    try {
      const response = await this.options.send(request, { maxBytes: MAX_RESPONSE_BYTES, signal });
      trace?.('rx', `${response.status}${response.body ? ` ${maskBody(response.body)}` : ''}`);
      return response;
    } finally {
      pacer.done();
    }
  }

  private headers(authorization: string | undefined, body: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authorization) headers.authorization = authorization;
    return headers;
  }

  private readChallenge(response: HttpResponse): DigestChallenge | undefined {
    const raw = response.headers['www-authenticate'];
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    try {
      return chooseDigestChallenge(values);
    } catch (error) {
      if (error instanceof DigestParseError) throw new ProtocolError(`the panel's digest challenge is malformed: ${error.message}`);
      throw error;
    }
  }

  private useChallenge(challenge: DigestChallenge): void {
    this.challenge = challenge;
    this.nc = 0;
    this.cnonce = newCnonce();
  }

  private authorize(method: Method, path: string): string {
    const challenge = this.challenge as DigestChallenge;
    this.nc++;
    return authorizationHeader(challenge, {
      username: this.options.username,
      password: this.options.password.reveal(),
      method,
      uri: path,
      nc: this.nc,
      cnonce: this.cnonce,
    });
  }

  private refuse(error: Error): Error {
    this.refusal = error;
    return error;
  }
}

/** Parses a JSON answer and checks its shape; anything else is a protocol error naming the question. */
export function parseAnswer<T>(body: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ProtocolError(`the panel's answer to ${what} is not JSON`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? `field "${issue.path.join('.')}"` : 'the answer';
    throw new ProtocolError(`the panel's answer to ${what} is not the answer to that question: ${where} ${issue.message}`);
  }
  return result.data;
}
