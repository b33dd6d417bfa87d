import { NotSupportedError, PanelRefusedError, ProtocolError, UnreachableError, WrongCredentialError, type PanelctlError } from '../../src/driver-kit/index.js';
import { SILENT_PANEL_BACKOFF_MINUTES } from './limits.js';
import { panelText } from './mask.js';
import { error400, error409 } from './schemas.js';

/**
 * What each HTTP status the MAP answers means for panelctl (status meanings from openapi.json
 * components.responses and the per-path responses; see README "Errors"). Callers handle the
 * statuses that are normal for their question (404 for an empty user id, 409 for a running walk
 * test) before they get here.
 */
export function statusError(status: number, body: string, what: string): PanelctlError {
  const text = panelText(body);
  switch (status) {
    case 400: {
      const parsed = parseJson(body, error400);
      const field = parsed?.target ? ` (field "${panelText(parsed.target)}")` : '';
      return new PanelRefusedError(
        'E_BAD_VALUE',
        `the panel refused ${what} as malformed${field}: ${parsed ? panelText(parsed.message ?? parsed.code) : text || 'no reason given'}`,
        {
          data: { httpStatus: 400, panelCode: parsed?.code },
        },
      );
    }
    case 403:
      // "Missing license will lead to HTTP 403 plain-text response, for example "License missing MUM/usermodel"" (README, License).
      if (/licen[cs]e/i.test(body)) {
        return new NotSupportedError(`this panel cannot change users over its REST API: it has no MUM licence (it answered "${text}")`, {
          hint: 'user changes over the REST API need a MAP-COM panel with the MUM licence, or a Bosch client certificate that grants it (options.clientCert)',
          data: { httpStatus: 403, reason: 'licence' },
        });
      }
      return new PanelRefusedError('E_FORBIDDEN', `the panel's REST-API user may not ${what}${text ? ` ("${text}")` : ''}`, {
        hint: 'give the REST-API user the rights in RPS for MAP',
        data: { httpStatus: 403 },
      });
    case 409:
      return conflictError(body, what);
    case 411:
    case 414:
      return new ProtocolError(`the panel refused ${what}: HTTP ${status} (request too large)`, { data: { httpStatus: status } });
    case 500:
      return new UnreachableError('E_PANEL_ERROR', `the panel failed while handling ${what} (HTTP 500); it may be overloaded`, {
        hint: `wait a minute before trying again; if the request was a change, \`users list\` shows whether it was made`,
        data: { httpStatus: 500 },
      });
    case 503:
      return new UnreachableError('E_BUSY', `the panel stayed overloaded (HTTP 503) while panelctl asked ${what}`, {
        hint: 'the panel asks clients to wait at least 60 seconds after an overload answer; try again later',
        data: { httpStatus: 503 },
      });
    default:
      return new ProtocolError(`the panel answered ${what} with HTTP ${status}${text ? ` ("${text}")` : ''}, which is not an answer to that request`, {
        data: { httpStatus: status },
      });
  }
}

/** 409 on /usermodel: JSON Error409 (SyncError, AlreadyExists, DependencyConflict). */
export function conflictError(body: string, what: string): PanelctlError {
  const parsed = parseJson(body, error409);
  if (!parsed)
    return new PanelRefusedError('E_CONFLICT', `the panel refused ${what}: conflict (${panelText(body) || 'no reason given'})`, { data: { httpStatus: 409 } });
  const detail = parsed.message ? `: ${panelText(parsed.message)}` : '';
  switch (parsed.code) {
    case 'SyncError':
      return new PanelRefusedError(
        'E_CONFLICT',
        `the panel refused ${what}: its user database changed since panelctl read it (stale userModelSyncID)${detail}`,
        {
          hint: 'another client (RPS, a keypad, another REST client) changed users meanwhile; nothing was changed by this request: run the command again',
          data: { httpStatus: 409, panelCode: parsed.code },
        },
      );
    case 'AlreadyExists':
      return new PanelRefusedError('E_SLOT_TAKEN', `the panel refused ${what}: that user id (or REST-API user name) is already in use${detail}`, {
        data: { httpStatus: 409, panelCode: parsed.code },
      });
    case 'DependencyConflict':
      return new PanelRefusedError('E_DEPENDENCY', `the panel refused ${what}: something else depends on it${detail}`, {
        hint: 'the last user with REST-API rights cannot be deleted or deactivated',
        data: { httpStatus: 409, panelCode: parsed.code },
      });
  }
}

/** 401 after the credential was sent, or 401 with no digest challenge: never retried (README, "User Passcode Tamper"). */
export function credentialRefused(user: string, lockout: boolean): PanelctlError {
  if (lockout) {
    return new PanelRefusedError(
      'E_LOCKED_OUT',
      'the panel refuses every request from this address without asking for credentials: its user passcode tamper lockout is active',
      {
        hint: 'the lockout ends by itself after the time set in RPS for MAP; panelctl sends nothing more to this panel until you run it again',
        data: { httpStatus: 401 },
      },
    );
  }
  return new WrongCredentialError(
    `the panel refused the digest credential of REST-API user "${user}": wrong user name or password, or the panel's user passcode tamper lockout is active for this address`,
    { data: { httpStatus: 401 } },
  );
}

export function silentPanelHint(): string {
  return `the panel did not answer; the MAP description asks clients to wait at least ${SILENT_PANEL_BACKOFF_MINUTES} minutes before trying again, and a change sent just before may or may not have been made: check with \`users list\` then`;
}

function parseJson<T>(body: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T | undefined {
  try {
    const result = schema.safeParse(JSON.parse(body));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
