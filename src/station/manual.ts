import { ExitCode, PanelctlError, UsageError } from '../core/errors.js';
import type { NoticeReceipt, StationAdapter, StationNotice } from './types.js';
import { localTime } from '../output/time.js';

export interface ManualOptions {
  /** The operator said on the command line that they have called the station. */
  confirmed: boolean;
  /** Asks a yes/no question on a terminal; absent without one. */
  confirm?: (message: string) => Promise<boolean>;
  /** Prints a line for the operator (stderr). */
  say: (line: string) => void;
}

/**
 * The operator phones the station. On a terminal panelctl shows what to tell them and waits for
 * a yes. Without a terminal it is an error at the start of a test unless --station-confirmed was
 * given; at the end it is a reminder and an unconfirmed receipt: the panel is switched off by cron,
 * but the lease stays (and the sweep exits 7) until a person confirms the call.
 */
export function manualStation(options: ManualOptions): StationAdapter {
  return {
    kind: 'manual',
    async notify(notice: StationNotice): Promise<NoticeReceipt> {
      const until = localTime(notice.until);
      const what =
        notice.event === 'test.start'
          ? `put account ${notice.account} (${notice.panel}) ON TEST until ${until}`
          : `take account ${notice.account} (${notice.panel}) OFF TEST: it is back in normal service`;
      if (options.confirmed) {
        options.say(`monitoring station (manual): ${what} - confirmed by --station-confirmed`);
        return { confirmed: true };
      }
      if (options.confirm) {
        options.say(`Call the monitoring station and ask them to ${what}.`);
        if (await options.confirm('Has the station confirmed?')) return { confirmed: true };
        if (notice.event === 'test.stop') {
          // Exit 7, not 2: the panel's half has already been ended by then.
          throw new PanelctlError(
            ExitCode.partial,
            'E_STATION_NOT_CONFIRMED',
            `the monitoring station has not confirmed that account ${notice.account} is off test; the lease stays until it has`,
            {
              hint: `once they have, run: panelctl test-mode stop --panel ${notice.panel} --station-confirmed`,
              data: { delivery: 'refused' },
            },
          );
        }
        throw new UsageError('the monitoring station was not confirmed; nothing was switched', {
          code: 'E_STATION_NOT_CONFIRMED',
          data: { delivery: 'refused' },
        });
      }
      if (notice.event === 'test.stop') {
        options.say(`REMINDER: call the monitoring station to ${what}`);
        return { confirmed: false };
      }
      throw new UsageError(`the monitoring station for ${notice.panel} is manual and there is no terminal to confirm the call`, {
        code: 'E_STATION_NOT_CONFIRMED',
        hint: `call the station to ${what}, then run again with --station-confirmed`,
        data: { delivery: 'not-delivered' },
      });
    },
  };
}
