// Calendar quotas reset at the same instant for every key (the start of a UTC hour, day, ISO week or
// month), unlike rolling windows that start at a key's first request. The period's id goes into the
// counter key and its remaining seconds become the counter's TTL, so a quota resets exactly on time.

/** A calendar period for quotas, in UTC. */
export type CalendarPeriod = 'hour' | 'day' | 'week' | 'month';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The nominal length of a period in seconds (a month counts 31 days), for `RateLimit-Policy` `w`. */
export function periodSeconds(per: CalendarPeriod): number {
  switch (per) {
    case 'hour':
      return 3600;
    case 'day':
      return 86_400;
    case 'week':
      return 7 * 86_400;
    case 'month':
      return 31 * 86_400;
  }
}

/** The period containing `now`: an id for counter keys and the epoch ms it ends at. */
export function periodAt(per: CalendarPeriod, now: number): { id: string; end: number } {
  const date = new Date(now);
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  switch (per) {
    case 'hour': {
      const start = Math.floor(now / HOUR) * HOUR;
      return { id: `h${start / HOUR}`, end: start + HOUR };
    }
    case 'day': {
      const start = Date.UTC(y, m, d);
      return { id: `d${start / DAY}`, end: start + DAY };
    }
    case 'week': {
      // ISO weeks start on Monday: getUTCDay() is 0 for Sunday.
      const start = Date.UTC(y, m, d) - ((date.getUTCDay() + 6) % 7) * DAY;
      return { id: `w${start / DAY}`, end: start + 7 * DAY };
    }
    case 'month':
      return { id: `m${y}-${m + 1}`, end: Date.UTC(y, m + 1, 1) };
  }
}
