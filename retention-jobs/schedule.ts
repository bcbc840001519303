/**
 * Recurring schedules, in UTC: `daily HH:MM`, or a 5-field cron expression (minute, hour, day of month,
 * month, day of week; `*`, lists, ranges and `/step`; day of week 0-7 with 0 and 7 Sunday). When both
 * day fields are restricted, a day matching either runs, as in Vixie cron.
 */
export interface Schedule {
  /** The first run strictly after `afterMs` (epoch ms), on a whole minute. */
  next(afterMs: number): number;
  /** The normalised text form, stored with the schedule so a change of configuration is noticed. */
  readonly spec: string;
}

export class ScheduleSyntaxError extends Error {}

interface Field {
  min: number;
  max: number;
}

const fields: Field[] = [
  { min: 0, max: 59 }, // minute
  { min: 0, max: 23 }, // hour
  { min: 1, max: 31 }, // day of month
  { min: 1, max: 12 }, // month
  { min: 0, max: 7 }, // day of week
];

function parseField(text: string, field: Field, name: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new ScheduleSyntaxError(`cron ${name} field: cannot read "${part}"`);
    const step = match[4] === undefined ? 1 : Number(match[4]);
    let from = field.min;
    let to = field.max;
    if (match[1] !== '*') {
      from = Number(match[2]);
      to = match[3] === undefined ? (match[4] === undefined ? from : field.max) : Number(match[3]);
    }
    if (step < 1 || from < field.min || to > field.max || from > to) {
      throw new ScheduleSyntaxError(`cron ${name} field: "${part}" is outside ${field.min}-${field.max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

const names = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];

/** Parses `daily HH:MM` or a cron expression; throws ScheduleSyntaxError naming the bad part. */
export function parseSchedule(text: string): Schedule {
  const trimmed = text.trim().replace(/\s+/g, ' ').replace(/^cron /, '');
  const daily = /^daily ([01]\d|2[0-3]):([0-5]\d)$/.exec(trimmed);
  const cron = daily ? `${Number(daily[2])} ${Number(daily[1])} * * *` : trimmed;
  const parts = cron.split(' ');
  if (parts.length !== 5) throw new ScheduleSyntaxError(`expected "daily HH:MM" or 5 cron fields, got "${text}"`);
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => parseField(p, fields[i], names[i]));
  if (weekdays.has(7)) weekdays.add(0);
  const dayRestricted = parts[2] !== '*';
  const weekdayRestricted = parts[4] !== '*';
  const dayMatches = (d: Date) => {
    const dom = days.has(d.getUTCDate());
    const dow = weekdays.has(d.getUTCDay());
    if (dayRestricted && weekdayRestricted) return dom || dow;
    return dom && dow;
  };
  return {
    spec: daily ? trimmed : `cron ${cron}`,
    next(afterMs: number): number {
      const d = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
      // Jump field by field instead of minute by minute; five years bound impossible dates (Feb 30).
      const limit = afterMs + 5 * 366 * 86_400_000;
      while (d.getTime() <= limit) {
        if (!months.has(d.getUTCMonth() + 1)) {
          d.setUTCMonth(d.getUTCMonth() + 1, 1);
          d.setUTCHours(0, 0, 0, 0);
        } else if (!dayMatches(d)) {
          d.setUTCDate(d.getUTCDate() + 1);
          d.setUTCHours(0, 0, 0, 0);
        } else if (!hours.has(d.getUTCHours())) {
          d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
        } else if (!minutes.has(d.getUTCMinutes())) {
          d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
        } else {
          return d.getTime();
        }
      }
      throw new ScheduleSyntaxError(`the schedule "${text}" never runs`);
    },
  };
}
