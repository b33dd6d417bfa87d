import { createHmac } from 'node:crypto';
import { PanelRefusedError, UnreachableError, ValidationError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { noticeBody, type NoticeReceipt, type StationAdapter, type StationNotice } from './types.js';
import { checkWebhookUrl } from './url.js';

/**
 * POSTs the notice as JSON. The station checks two headers: X-Panelctl-Timestamp (Unix seconds)
 * and X-Panelctl-Signature, "sha256=" + hex HMAC-SHA256 over "<timestamp>.<body>" with the shared
 * key. Signing the timestamp with the body lets the station refuse replays of an old notice.
 */
export function signNotice(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** How much of an error answer is read: enough for a message, never a flood (issue 14, item 13). */
export const ERROR_BODY_LIMIT = 2048;

/**
 * Connection failures that happen before a byte of the notice left: the station cannot have it.
 * Everything else (a timeout, a reset after sending) may have delivered it.
 */
const NOT_SENT = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ERR_TLS_.*|.*CERT.*|.*SELF_SIGNED.*|UNABLE_TO_.*)$/;

export function webhookStation(url: string, key: Secret, timeoutMs = 10_000, options: { insecure?: boolean } = {}): StationAdapter {
  const problem = checkWebhookUrl(url, options.insecure);
  if (problem) throw new ValidationError('station.url', problem);
  return {
    kind: 'webhook',
    async notify(notice: StationNotice): Promise<NoticeReceipt> {
      const body = noticeBody(notice);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signal = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          // A signed notice goes to the configured station and nowhere else: a redirect is an answer, not a route.
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'panelctl',
            'x-panelctl-event': notice.event,
            'x-panelctl-timestamp': timestamp,
            'x-panelctl-signature': signNotice(key.reveal(), timestamp, body),
          },
          body,
          signal,
        });
      } catch (error) {
        const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        const sent = !NOT_SENT.test(cause);
        throw new UnreachableError(
          'E_STATION_UNREACHABLE',
          `the monitoring station's webhook ${origin(url)} did not answer (${cause === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : cause})`,
          {
            hint: sent
              ? `the station may have received the ${notice.event} notice; if it answers slowly, raise station.timeoutMs in the inventory`
              : 'check the station URL and the network',
            data: { delivery: sent ? 'unknown' : 'not-delivered' },
          },
        );
      }
      const stationDate = response.headers.get('date') ?? undefined;
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location');
        throw new PanelRefusedError(
          'E_STATION_REDIRECT',
          `the monitoring station's webhook answered ${response.status} redirecting to ${location ? describeLocation(location, url) : 'nowhere'}; panelctl never follows a redirect with a notice`,
          { hint: 'put the final URL in station.url in the inventory', data: { status: response.status, delivery: 'refused' } },
        );
      }
      if (!response.ok) {
        const text = (await readPrefix(response, ERROR_BODY_LIMIT)).slice(0, 200).replace(/\s+/g, ' ').trim();
        // A gateway that gave up waiting (502, 504) does not know whether the station behind it has the notice.
        const unknown = response.status === 502 || response.status === 504;
        throw new PanelRefusedError('E_STATION_REFUSED', `the monitoring station's webhook answered ${response.status}${text ? `: ${text}` : ''}`, {
          data: { status: response.status, delivery: unknown ? 'unknown' : 'refused' },
        });
      }
      // A 2xx is the acceptance; the body is not needed, and not reading it closes the connection.
      await response.body?.cancel().catch(() => undefined);
      return { confirmed: true, stationDate };
    },
    async clock() {
      try {
        const response = await fetch(url, {
          method: 'HEAD',
          redirect: 'manual',
          headers: { 'user-agent': 'panelctl' },
          signal: AbortSignal.timeout(Math.min(timeoutMs, 3000)),
        });
        await response.body?.cancel().catch(() => undefined);
        return response.headers.get('date') ?? undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** Reads at most `limit` bytes of the body, then stops reading (a 200 MB error page is never pulled in whole). */
async function readPrefix(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // a body cut short is still a failed answer; the status says enough
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** Scheme, host and port only: a URL may carry a token in its path or query. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'URL';
  }
}

/** Where a redirect pointed, without a query or credentials that might carry a token. */
function describeLocation(location: string, base: string): string {
  try {
    const target = new URL(location, base);
    return `${target.origin}${target.pathname}`;
  } catch {
    return 'an unreadable Location';
  }
}
