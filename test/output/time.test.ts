import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * localTime: a moment in the operator's local time zone, "2026-11-30 01:54:11" when the locale names
 * no convention (C, POSIX, none). Written from the zone's offset at that moment (issue 18's table of
 * 10,000 leases): summer time, half-hour zones and years before 1000 come out right.
 */

const saved = { TZ: process.env.TZ, LC_ALL: process.env.LC_ALL, LC_TIME: process.env.LC_TIME, LANG: process.env.LANG };
beforeAll(() => {
  process.env.LC_ALL = 'C';
  delete process.env.LC_TIME;
  delete process.env.LANG;
});
afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('localTime without a locale convention', () => {
  it('writes the local date and time of the moment, with the offset in force then', async () => {
    const { localTime } = await import('../../src/output/time.js');
    const at = (tz: string, iso: string) => {
      process.env.TZ = tz;
      return localTime(iso);
    };
    expect(at('UTC', '2026-11-30T00:54:11.000Z')).toBe('2026-11-30 00:54:11');
    expect(at('Europe/Oslo', '2026-11-30T00:54:11.000Z')).toBe('2026-11-30 01:54:11');
    // Summer time: +2, across midnight and a month's end.
    expect(at('Europe/Oslo', '2026-06-30T22:00:00.000Z')).toBe('2026-07-01 00:00:00');
    // The last second before the clocks go back, and the first after (03:00 CEST -> 02:00 CET).
    expect(at('Europe/Oslo', '2026-10-25T00:59:59.000Z')).toBe('2026-10-25 02:59:59');
    expect(at('Europe/Oslo', '2026-10-25T01:00:00.000Z')).toBe('2026-10-25 02:00:00');
    expect(at('America/St_Johns', '2026-01-01T03:29:00.000Z')).toBe('2025-12-31 23:59:00');
    expect(at('Asia/Kathmandu', '2026-01-01T00:00:00.000Z')).toBe('2026-01-01 05:45:00');
    expect(at('UTC', '0999-03-04T05:06:07.000Z')).toBe('0999-03-04 05:06:07');
    expect(at('UTC', 'not a time')).toBe('not a time');
    // Wall-clock ms (a deadline, a panel's quiet time) read as the same moment.
    process.env.TZ = 'Europe/Oslo';
    expect(localTime(Date.parse('2026-11-30T00:54:11.000Z'))).toBe('2026-11-30 01:54:11');
  });
});
