import { createHmac } from 'node:crypto';
import { PanelRefusedError, UnreachableError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { noticeBody, type StationAdapter, type StationNotice } from './types.js';

/**
 * POSTs the notice as JSON. The station checks two headers: X-Panelctl-Timestamp (Unix seconds)
 * and X-Panelctl-Signature, "sha256=" + hex HMAC-SHA256 over "<timestamp>.<body>" with the shared
 * key. Signing the timestamp with the body lets the station refuse replays of an old notice.
 */
export function signNotice(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookStation(url: string, key: Secret, timeoutMs = 10_000): StationAdapter {
  return {
    kind: 'webhook',
    async notify(notice: StationNotice) {
      const body = noticeBody(notice);
      const timestamp = String(Math.floor(Date.now() / 1000));
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'panelctl',
            'x-panelctl-event': notice.event,
            'x-panelctl-timestamp': timestamp,
            'x-panelctl-signature': signNotice(key.reveal(), timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        throw new UnreachableError('E_STATION_UNREACHABLE', `the monitoring station's webhook ${origin(url)} did not answer (${cause})`, {
          hint: 'check the station URL and the network; nothing was switched on the panel',
        });
      }
      // Drain the body so the connection closes; the text helps the operator when it is an error.
      const text = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ').trim();
      if (!response.ok) {
        throw new PanelRefusedError('E_STATION_REFUSED', `the monitoring station's webhook answered ${response.status}${text ? `: ${text}` : ''}`, {
          data: { status: response.status },
        });
      }
    },
  };
}

/** Scheme, host and port only: a URL may carry a token in its path or query. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'URL';
  }
}
