import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ProtocolError, TlsError, UnreachableError } from '../../src/core/errors.js';
import { lostFailure, type TlsMaterial } from '../../src/transport/http.js';

// What a broken request turns into, for the errors node:http hands over that no loopback server makes on demand
// (http.test.ts and http.mutation.test.ts make the ones it can): the order of the checks, the reset and hang-up
// wording, and llhttp's reason said only when it is llhttp's own plain words.

const PANEL = 'https://panel.example';
const material: TlsMaterial = { context: tls.createSecureContext(), clientCertificate: false };
const nodeError = (message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), extra) as NodeJS.ErrnoException;

describe('a connection lost after it was made', () => {
  it('any other socket error is E_LOST with its own message, over http and https alike (not a TLS refusal, not a reset)', () => {
    for (const link of [undefined, material]) {
      const error = lostFailure(nodeError('write EPIPE', { code: 'EPIPE' }), link, PANEL);
      expect(error).toBeInstanceOf(UnreachableError);
      expect(error).toMatchObject({ code: 'E_LOST', exitCode: 4, message: `lost the connection to ${PANEL}: write EPIPE` });
      expect(error.cause).toMatchObject({ code: 'EPIPE' });
    }
  });

  it('a reset whose message speaks of TLS is still a reset, not a TLS refusal', () => {
    const reset = nodeError('Client network socket disconnected before secure TLS connection was established', { code: 'ECONNRESET' });
    expect(lostFailure(reset, material, PANEL)).toMatchObject({ code: 'E_LOST', message: `lost the connection to ${PANEL}: connection reset by the panel` });
    const hangUp = nodeError('socket hang up', { code: 'ECONNRESET' });
    expect(lostFailure(hangUp, material, PANEL)).toMatchObject({
      code: 'E_LOST',
      message: `lost the connection to ${PANEL}: the panel closed the connection without answering`,
    });
  });

  it('a TLS alert after the handshake (the panel refusing our certificate) is E_TLS, only on an https link', () => {
    const alert = nodeError('error:0A000418:SSL routines::tlsv1 alert unknown ca', { code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
    expect(lostFailure(alert, material, PANEL)).toBeInstanceOf(TlsError);
    expect(lostFailure(alert, material, PANEL)).toMatchObject({ code: 'E_TLS', side: 'client' });
    expect(lostFailure(alert, undefined, PANEL)).toMatchObject({ code: 'E_LOST', message: `lost the connection to ${PANEL}: ${alert.message}` });
  });

  it('an error without a code is E_LOST with its message', () => {
    expect(lostFailure(nodeError('something odd'), undefined, PANEL)).toMatchObject({
      code: 'E_LOST',
      message: `lost the connection to ${PANEL}: something odd`,
    });
  });
});

describe("an answer llhttp refused: llhttp's reason only in its own plain words", () => {
  const refused = (reason: unknown) => lostFailure(nodeError('Parse Error', { code: 'HPE_INVALID_CHUNK_SIZE', reason }), material, PANEL);

  it('says the reason, lower-cased, when it is plain words of at most 80 characters', () => {
    const error = refused('Invalid character in chunk size');
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      exitCode: 5,
      message: `the answer from ${PANEL} is not valid HTTP: invalid character in chunk size`,
      data: { parseError: 'HPE_INVALID_CHUNK_SIZE' },
    });
    expect(refused('a'.repeat(80)).message).toBe(`the answer from ${PANEL} is not valid HTTP: ${'a'.repeat(80)}`);
  });

  it('says the code instead when there is no reason, it is not text, or anything in it is not plain', () => {
    for (const reason of [undefined, 42, '\u001b[2J invalid character', 'invalid character \u001b[2J', 'a'.repeat(81), '']) {
      expect(refused(reason).message, JSON.stringify(reason)).toBe(`the answer from ${PANEL} is not valid HTTP: HPE_INVALID_CHUNK_SIZE`);
    }
  });

  it('a status line that is not HTTP at all says so, with a hint about the port', () => {
    for (const code of ['HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_INVALID_STATUS']) {
      expect(lostFailure(nodeError('Parse Error', { code, reason: 'Expected HTTP/' }), undefined, PANEL), code).toMatchObject({
        exitCode: 5,
        message: `the answer from ${PANEL} is not HTTP`,
        hint: "another service may be listening on this port: check the port of the panel's web interface",
        data: { parseError: code },
      });
    }
  });
});
