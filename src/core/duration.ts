import { ValidationError } from './errors.js';

/** Milliseconds per unit, under every spelling people type (kubectl/Go style and plain words). */
const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

export interface DurationRules {
  /**
   * What a bare number means: seconds (like `timeout 30` or kubectl's --request-timeout), or
   * nothing (refused, where neither seconds nor minutes is the obvious reading, e.g. a test window).
   * Never milliseconds: `--timeout 30` once meant 30 ms.
   */
  bareNumber?: 'seconds' | 'refuse';
}

/**
 * "90s", "1500ms", "45 min", "1.5h", "1h30m", "2h 15m": one or more number-unit pairs, summed.
 * The one parser for every duration panelctl reads (--timeout, --for, --since, the shell).
 */
export function parseDuration(text: string, field: string, rules: DurationRules = {}): number {
  const trimmed = text.trim().toLowerCase();
  const example = 'a duration like 30s, 90s, 45m, 1h30m or 1.5h';
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    if (rules.bareNumber !== 'seconds') throw new ValidationError(field, `must be ${example}: "${text}" has no unit`);
    return positive(Math.round(Number(trimmed) * 1000), field);
  }
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y;
  let total = 0;
  let at = 0;
  while (at < trimmed.length) {
    part.lastIndex = at;
    const match = part.exec(trimmed);
    const unit = match ? UNITS[match[2]] : undefined;
    if (!match || unit === undefined) throw new ValidationError(field, `must be ${example} (units: ms, s, m, h, d)`);
    total += Number(match[1]) * unit;
    at = part.lastIndex;
  }
  if (!trimmed) throw new ValidationError(field, `must be ${example}`);
  return positive(Math.round(total), field);
}

function positive(ms: number, field: string): number {
  if (ms <= 0) throw new ValidationError(field, 'must be more than zero');
  return ms;
}

/** 95_000 -> "1m 35s", 7_200_000 -> "2h": a duration the way people say it. */
export function formatDuration(ms: number): string {
  let seconds = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts = [hours && `${hours}h`, minutes && `${minutes}m`, (seconds || (!hours && !minutes)) && `${seconds}s`].filter(Boolean);
  return parts.join(' ');
}
