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

export interface StationAdapter {
  /** For messages and the lease: webhook, command, manual or none. */
  readonly kind: string;
  /** Resolves once the station has accepted the notice; throws a typed error otherwise. */
  notify(notice: StationNotice): Promise<void>;
}

export function noticeBody(notice: StationNotice): string {
  return JSON.stringify(notice);
}
