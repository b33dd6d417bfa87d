import type { PanelctlError } from '../core/errors.js';

/**
 * What panelctl tells a monitoring station about an account going on or off test. The JSON body
 * of a notice is a documented, stable shape (README, "Station notices"): stations integrate with it.
 */
export interface StationNotice {
  event: 'test.start' | 'test.stop';
  /** The account number the station knows this panel by. */
  account: string;
  panel: string;
  customer?: string;
  /** The test window. On a stop, `until` is the moment the test ended. */
  from: string;
  until: string;
  operator: string;
  ticket?: string;
  reason?: string;
  /** Same id on the start and the stop of one test window. */
  lease: string;
  sentAt: string;
}

/** What came back from a notice that did not fail. */
export interface NoticeReceipt {
  /**
   * The station confirmed it. False only for a manual station with nobody to confirm the call:
   * a reminder was printed, and a person still has to phone.
   */
  confirmed: boolean;
  /** The station's own clock (the webhook's Date header), for the clock-skew check. */
  stationDate?: string;
}

export interface StationAdapter {
  /** For messages and the lease: webhook, command, manual or none. */
  readonly kind: string;
  /** Resolves once the station has answered the notice; throws a typed error otherwise. */
  notify(notice: StationNotice): Promise<NoticeReceipt>;
  /** The station's clock, asked without telling it anything (webhook: a HEAD request's Date header). */
  clock?(): Promise<string | undefined>;
}

/**
 * Whether a failed notice may have reached the station. Only what certainly did not arrive
 * ('not-delivered') or was answered with a no ('refused') may be forgotten; a timeout or a
 * connection lost after sending is 'unknown', and panelctl must act as if the station had it.
 */
export type Delivery = 'not-delivered' | 'refused' | 'unknown';

export function deliveryOf(error: PanelctlError): Delivery {
  const delivery = error.data?.delivery;
  return delivery === 'not-delivered' || delivery === 'refused' ? delivery : 'unknown';
}

export function noticeBody(notice: StationNotice): string {
  return JSON.stringify(notice);
}
